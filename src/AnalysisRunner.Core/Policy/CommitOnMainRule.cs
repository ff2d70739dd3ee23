using AnalysisRunner.Core.Git;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Code that runs on real data (standard, full) must have been reviewed, i.e. merged into main;
/// -SkipRepoCheckout does not change that (its command still comes from a reviewed commit).
/// </summary>
internal sealed class CommitOnMainRule(ICommitOnMainChecker commits) : IExplainingPolicyRule
{
    private readonly ICommitOnMainChecker _commits = commits ?? throw new ArgumentNullException(nameof(commits));

    public string Name => "CommitOnMain";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        if (!Applies(request)) return;
        var cloneUrl = request.CloneUrl ?? RepositoryName.ToCloneUrl(request.Repository!);
        if (string.IsNullOrWhiteSpace(request.Commit) || !_commits.IsOnMain(cloneUrl, request.Commit))
            throw new PolicyViolationException("CommitNotOnMain", ErrorKind.PermissionDenied, request.Commit,
                $"Commit '{request.Commit}' is not on the main branch of {request.Repository}; access level '{request.AccessLevel.ToConfigName()}' runs only reviewed code. " +
                "Merge it into main first (and push), or use -AccessLevel test.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        Applies(request)
            ? $"{request.Commit} is on main of {request.Repository}"
            : request.AccessLevel == AccessLevel.Test ? "skipped: test access may run unmerged code"
            : "skipped: no repository was given";

    private static bool Applies(PolicyRequest request) =>
        request.AccessLevel != AccessLevel.Test && !string.IsNullOrWhiteSpace(request.Repository);
}
