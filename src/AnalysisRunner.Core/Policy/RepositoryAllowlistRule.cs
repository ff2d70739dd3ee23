using AnalysisRunner.Core.Git;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Only repositories the dataset lists may run on it. The comparison is exact after normalising
/// both sides, so neither 'org/repo.evil' nor 'ORG/Repo' passes for 'org/repo'.
/// </summary>
public sealed class RepositoryAllowlistRule : IExplainingPolicyRule
{
    public string Name => "RepositoryAllowlist";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        var entry = PolicyRules.RequireDataset(request, registry);
        if (request.SkipRepoCheckout) return;
        var key = $"datasets.{request.Dataset}.repositories";
        if (string.IsNullOrWhiteSpace(request.Repository))
            throw new PolicyViolationException("RepositoryNotAllowed", ErrorKind.PermissionDenied, request.Repository,
                $"No repository was given for dataset '{request.Dataset}'; run from a checkout whose origin is listed in {key} in {registry.SourceName}.");
        var repository = RepositoryName.Normalize(request.Repository);
        if (entry.Repositories.Any(allowed => string.Equals(RepositoryName.Normalize(allowed), repository, StringComparison.Ordinal)))
            return;
        throw new PolicyViolationException("RepositoryNotAllowed", ErrorKind.PermissionDenied, request.Repository,
            $"Repository '{repository}' may not run on dataset '{request.Dataset}' (allowed: {Describe(entry.Repositories)}). " +
            $"To allow it, add \"{repository}\" to {key} in {registry.SourceName}.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        request.SkipRepoCheckout
            ? "skipped: -SkipRepoCheckout runs no repository code"
            : $"'{RepositoryName.Normalize(request.Repository!)}' is in datasets.{request.Dataset}.repositories";

    private static string Describe(IReadOnlyList<string> repositories) =>
        repositories.Count == 0 ? "none" : string.Join(", ", repositories);
}
