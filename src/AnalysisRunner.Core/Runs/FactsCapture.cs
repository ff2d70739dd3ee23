using AnalysisRunner.Core.Git;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// The client's half of a submission: reads the user's working tree and -Config files into
/// SubmissionFacts. Nothing here is trusted by the authority; it only saves the user from typing
/// what the checkout already says (origin, HEAD, the folder they stand in).
/// </summary>
public static class FactsCapture
{
    public static SubmissionFacts Capture(RunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var facts = new SubmissionFacts
        {
            Dataset = request.Dataset,
            AccessLevel = request.AccessLevel,
            Description = request.Description,
            OutputDir = request.OutputDir,
            Script = request.Script,
            ScriptArguments = request.ScriptArguments.ToList(),
            SkipRepoCheckout = request.SkipRepoCheckout,
            Image = request.Image,
            Cpu = request.Cpu,
            Memory = request.Memory,
            Storage = request.Storage,
            Preemptible = request.Preemptible,
            Environment = new Dictionary<string, string>(request.Environment),
            ConfigFiles = request.ConfigFiles.Select(ReadSnapshot).ToList(),
            Cwd = request.Cwd,
        };

        if (request.Repository is not null)
        {
            if (string.IsNullOrWhiteSpace(request.Commit))
                throw new SourceException("CommitRequired", ErrorKind.InvalidArgument, RepositoryName.WithoutCredentials(request.Repository),
                    $"-Repository '{RepositoryName.WithoutCredentials(request.Repository)}' needs -Commit too: the runner only runs an exact commit.");
            return facts with { RepositoryUrl = RepositoryName.WithoutCredentials(request.Repository), Commit = request.Commit, Cwd = request.Cwd ?? "." };
        }

        var snapshot = SourceCapture.Capture(request.WorkingDirectory);
        var commit = request.Commit is null ? snapshot.Commit : TryResolveLocally(snapshot.GitRoot, request.Commit);
        var warnings = new List<string>();
        if (snapshot.IsDirty && commit == snapshot.Commit)
            warnings.Add($"The working tree at {snapshot.GitRoot} has uncommitted changes; the driver runs commit {commit[..12]} without them.");
        var pushed = commit != snapshot.Commit || snapshot.OriginHasCommit;
        if (!pushed)
            warnings.Add($"Commit {commit[..12]} is not on any branch of origin as this checkout last fetched it; the runner can only run it once it is pushed.");
        return facts with
        {
            RepositoryUrl = RepositoryName.WithoutCredentials(snapshot.OriginUrl),
            Commit = commit,
            Cwd = request.Cwd ?? snapshot.Cwd,
            ClientWarnings = warnings,
            CommitPushed = pushed,
        };
    }

    /// <summary>A commitish the local checkout knows becomes its sha; anything else goes to the authority as typed.</summary>
    private static string TryResolveLocally(string gitRoot, string commitish)
    {
        try
        {
            return SourceCapture.ResolveCommit(gitRoot, commitish);
        }
        catch (SourceException e) when (e.ErrorId == "CommitNotFound")
        {
            return commitish;
        }
    }

    private static ConfigSnapshot ReadSnapshot(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ConfigException("ConfigNotFound", ErrorKind.ObjectNotFound, path,
                $"Config file '{path}' does not exist; -Config takes paths of TOML files, merged left to right.");
        // Not parsed here: the authority parses every file once and names the one that is not TOML.
        return new ConfigSnapshot(full, File.ReadAllText(full));
    }
}
