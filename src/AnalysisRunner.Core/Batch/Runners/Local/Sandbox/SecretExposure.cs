using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners.Local.Sandbox;

/// <summary>A file whose contents let whoever reads it act as the server (its settings, a passfile, its TLS key, the run-token key), and what it is, for the message.</summary>
public sealed record SecretFile(string Path, string What);

/// <summary>
/// Whether a secret of the server is where a job's sandbox shows it. The folders shown are the
/// sandbox's own list (<see cref="SandboxView.EveryBatchSees"/>) and the home's folders some batch is
/// shown part of (buckets, logs, work); both sides are judged by where they lead (realpath), since bwrap
/// binds a folder's real path and a job reads a linked secret at its real one. Jobs run as the
/// executor's account, which is the server's (bwrap maps no other uid), so a file's mode does not keep
/// them out: only where it is does.
/// </summary>
public sealed class SecretExposure
{
    public const string ErrorId = "SecretVisibleToJobs";

    private readonly IReadOnlyList<string> _shown;
    private readonly string? _homeRoot;

    /// <param name="shown">Folders (or files) a sandbox shows, as the sandbox names them (its bind destinations).</param>
    /// <param name="homeRoot">The runner home: a folder shown from outside it that holds it has an empty tmpfs over it (BubblewrapSandbox).</param>
    public SecretExposure(IReadOnlyList<string> shown, string? homeRoot)
    {
        _shown = shown;
        _homeRoot = homeRoot;
    }

    /// <summary>What the sandboxes of the executor started from <paramref name="executorFolder"/> over <paramref name="home"/> (if any) show.</summary>
    public static SecretExposure Of(RunnerHome? home, string executorFolder)
    {
        var (shown, _) = SandboxView.EveryBatchSees(home, executorFolder);
        // The launcher's folder (SandboxView.For adds it): the executor's own.
        shown.Add(executorFolder);
        if (home is null) return new SecretExposure(shown, null);
        shown.AddRange([home.BucketsDirectory, home.LogsDirectory, home.WorkDirectory]);
        // As SandboxView.For: the home itself is never shown, only named parts of it.
        shown.RemoveAll(path => SandboxView.IsUnder(home.Root, path) && SandboxView.IsUnder(path, home.Root));
        return new SecretExposure(shown, home.Root);
    }

    public IReadOnlyList<string> Shown => _shown;

    /// <summary>The folder shown through which a job reads <paramref name="file"/>; null when none does, or the file does not exist.</summary>
    public string? ShownBy(string file)
    {
        if (LinkFreePaths.Resolve(file) is not { } real) return null;
        foreach (var shown in _shown)
        {
            if (LinkFreePaths.Resolve(shown) is not { } source || !SandboxView.IsUnder(real, source)) continue;
            // Where the job sees it: the bind's destination with the rest of the real path below its source.
            var inSandbox = Path.GetFullPath(Path.Join(shown, Path.GetRelativePath(source, real)));
            if (_homeRoot is not null && !SandboxView.IsUnder(shown, _homeRoot) && SandboxView.IsUnder(inSandbox, _homeRoot)) continue;
            return shown;
        }
        return null;
    }

    /// <summary>Throws SecretVisibleToJobs naming every secret a sandbox shows, the folder that shows it and what to do.</summary>
    public void Check(IEnumerable<SecretFile> secrets)
    {
        var exposed = secrets
            .Select(secret => (Secret: secret, Shown: ShownBy(secret.Path)))
            .Where(found => found.Shown is not null)
            .ToList();
        if (exposed.Count == 0) return;
        var each = exposed.Select(found =>
        {
            var real = LinkFreePaths.Resolve(found.Secret.Path);
            var leads = real == Path.GetFullPath(found.Secret.Path) ? "" : $" (which leads to '{real}')";
            return $"{found.Secret.What} '{found.Secret.Path}'{leads} is under '{found.Shown}', which job sandboxes show";
        });
        throw new AnalysisRunnerException(ErrorId, ErrorKind.PermissionDenied, exposed[0].Secret.Path,
            $"{string.Join("; ", each)}. Every job could read it: jobs run as the server's account, so the file's mode does not keep them out. " +
            "Move it to a folder no sandbox shows (not /usr, /bin, /lib…, the /etc entries jobs see, the .NET runtime, the module's folder or " +
            "the runner home's bin, buckets, logs or work; /etc/analysis-runner/ is fine) and point the server's settings at it.");
    }
}
