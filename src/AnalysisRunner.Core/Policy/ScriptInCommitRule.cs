namespace AnalysisRunner.Core.Policy;

/// <summary>
/// What runs is the commit: the script is a file of the commit's tree (inside the repository, no
/// symlink on the way, executable or with a "#!" line in the blob), found in the authority's own
/// mirror of the allowlisted remote, never in the caller's working tree (CommitScripts).
/// </summary>
internal sealed class ScriptInCommitRule(ICommitSource source) : IExplainingPolicyRule
{
    private readonly ICommitSource _source = source ?? throw new ArgumentNullException(nameof(source));

    public string Name => "ScriptInCommit";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        if (request.SkipRepoCheckout) return;
        if (string.IsNullOrWhiteSpace(request.Commit))
            throw new SourceException("CommitRequired", ErrorKind.InvalidArgument, request.Script,
                "No commit was given; the runner only runs a file of an exact commit.");
        _source.ResolveScript(request.Commit, request.Cwd ?? ".", request.Script ?? "");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry)
    {
        if (request.SkipRepoCheckout) return "skipped: -SkipRepoCheckout runs a command, not a file of the commit";
        var script = _source.ResolveScript(request.Commit!, request.Cwd ?? ".", request.Script ?? "");
        var how = script.IsPowerShell ? "run with pwsh"
            : script.IsExecutable ? "executable (100755)"
            : $"run through '#!{script.Shebang}'";
        var commit = request.Commit!;
        return $"'{script.Path}' is a file of commit {commit[..Math.Min(12, commit.Length)]}, {how}";
    }
}
