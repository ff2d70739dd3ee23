using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Batch.Runners.Local.Sandbox;

/// <summary>
/// What one batch's jobs see of this machine. Read-only: the system folders (/usr and the /bin, /lib…
/// links or folders, a short list from /etc), the .NET runtime, the module and launcher folder, the
/// home's bin folder and what its pwsh shim runs, the batch's run config (CPG_CONFIG_PATH), and the
/// batch's inputs that are outside the runner home. Read-write: the batch's work folder, its own log
/// folder (its lanes and ledger, which its jobs append to), its resource folder, and, on the local
/// backend, the buckets of its verified run's scope (its dataset at its access level's namespace; the
/// run comes from the audit log, as the executor's scope checks take it, never from a config file). Nothing else
/// of the runner home — not registry.toml, settings.toml, runner.db, keys, the config store (other
/// runs' configs), other batches' logs or work, other datasets' or namespaces' buckets.
/// </summary>
internal sealed record SandboxView
{
    /// <summary>The runner home: hidden (an empty tmpfs over it) wherever a folder shown contains it, before what is shown of it.</summary>
    public required string HomeRoot { get; init; }

    public required IReadOnlyList<string> ReadOnly { get; init; }
    public required IReadOnlyList<string> ReadWrite { get; init; }
    public required IReadOnlyList<(string Link, string Target)> Symlinks { get; init; }

    /// <summary>Folders that are an empty tmpfs of the batch's own (HOME: jobs may write there; what is bound under it shows through).</summary>
    public required IReadOnlyList<string> Folders { get; init; }

    /// <summary>Whether jobs share the host's network (else they have only a loopback of their own).</summary>
    public required bool Network { get; init; }

    /// <summary>/etc entries jobs commonly need (names, DNS, certificates, the loader's cache, alternatives); nothing with secrets.</summary>
    internal static readonly string[] EtcEntries =
    [
        "passwd", "group", "hosts", "hostname", "resolv.conf", "nsswitch.conf", "host.conf", "gai.conf", "localtime", "timezone",
        "ssl", "ca-certificates", "ca-certificates.conf", "pki", "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
        "bash.bashrc", "profile", "profile.d", "inputrc", "environment", "gitconfig", "mime.types", "protocols", "services",
        "os-release", "debian_version", "lsb-release", "magic", "mailcap", "R", "java-17-openjdk", "fonts",
    ];

    /// <summary>The bucket New-Batch puts a batch's resources in when it is not part of a run.</summary>
    public const string LocalTmpBucket = "local-tmp";

    private static readonly string[] SystemFolders = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

    /// <summary>The view for the batch of <paramref name="launch"/> (any attempt of it: every attempt of a batch shares these).</summary>
    public static SandboxView For(RunnerHome home, RunnerSettings settings, AttemptLaunch launch, string launcher)
    {
        var readOnly = new List<string> { "/usr" };
        var symlinks = new List<(string, string)>();
        foreach (var folder in SystemFolders)
        {
            var info = new FileInfo(folder);
            if (info.LinkTarget is { } target) symlinks.Add((folder, target));
            else if (Directory.Exists(folder)) readOnly.Add(folder);
        }
        readOnly.AddRange(EtcEntries.Select(entry => "/etc/" + entry).Where(Path.Exists));
        // The .NET runtime (pwsh, the module) when it is not under /usr, the module and launcher folder, and what the pwsh shim runs.
        readOnly.Add(DotnetRoot());
        readOnly.Add(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!);
        readOnly.Add(Path.GetDirectoryName(launcher)!);
        readOnly.Add(home.BinDirectory);
        readOnly.AddRange(ShimTargets(home));
        var config = Variable(launch, Execution.JobEnvironment.ConfigVariable);
        if (config is not null && File.Exists(config)) readOnly.Add(config);
        // Nothing shown may be the home itself (a module folder there, say): only named parts of it are shown.
        readOnly.RemoveAll(path => IsUnder(home.Root, path) && IsUnder(path, home.Root));

        var readWrite = new List<string>
        {
            LocalLayout.SharedWork(home, launch.Key.BatchId),
            LocalLayout.BatchLogs(home, launch.Key.BatchId),
        };
        var scope = ScopeBuckets(home, settings, launch.RunScope);
        readWrite.AddRange(scope);
        // The batch's resource folder (<tmp root>/<batch id>) and its inputs: the executor has checked each
        // against the batch's scope (ResourcePaths.ForBatch: its run's buckets, or outside a run its
        // author's and local-tmp, or local files outside the home); here, besides, nothing of the home
        // outside its buckets is shown whatever a batch names.
        if (launch.BatchResourceRoot is { } resources && MayShow(home, resources)) readWrite.Add(resources);
        readOnly.AddRange(launch.BatchInputs.Where(input => MayShow(home, input) && Path.Exists(input)));

        var userHome = Environment.GetEnvironmentVariable("HOME");
        return new SandboxView
        {
            HomeRoot = home.Root,
            ReadOnly = readOnly.Distinct(StringComparer.Ordinal).ToList(),
            ReadWrite = readWrite.Distinct(StringComparer.Ordinal).ToList(),
            Symlinks = symlinks,
            Folders = string.IsNullOrEmpty(userHome) || !Path.IsPathFullyQualified(userHome) || userHome == "/" || IsUnder(userHome, home.Root) ? [] : [userHome],
            Network = settings.SandboxNetwork ?? settings.StorageBackend == "gcs",
        };
    }

    /// <summary>A path the batch names (resources, inputs) is shown if it is outside the home (and holds no part of it) or inside one of its buckets.</summary>
    internal static bool MayShow(RunnerHome home, string path)
    {
        var full = Path.GetFullPath(path);
        if (!IsUnder(full, home.Root) && !IsUnder(home.Root, full)) return true;
        var buckets = Path.TrimEndingDirectorySeparator(home.BucketsDirectory);
        // Inside a bucket, not the buckets folder itself or a bucket as a whole.
        return IsUnder(full, buckets) && Path.GetRelativePath(buckets, full).Contains('/');
    }

    /// <summary>The verified run's own buckets on the local backend: its dataset at its access level's namespace.</summary>
    private static List<string> ScopeBuckets(RunnerHome home, RunnerSettings settings, (string Dataset, AccessLevel AccessLevel)? run)
    {
        if (settings.StorageBackend != "local" || run is not { } scope) return [];
        var buckets = new LocalBuckets(home);
        return BucketLayout.BucketNames(scope.Dataset, scope.AccessLevel).Select(buckets.Locate).ToList();
    }

    private static string? Variable(AttemptLaunch launch, string name) =>
        launch.Environment.LastOrDefault(pair => pair.Key == name).Value;

    private static string DotnetRoot()
    {
        // <root>/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
    }

    /// <summary>The folders of the absolute paths the home's pwsh shim runs (dotnet, pwsh.dll).</summary>
    private static IEnumerable<string> ShimTargets(RunnerHome home)
    {
        var shim = Path.Combine(home.BinDirectory, "pwsh");
        if (!File.Exists(shim)) return [];
        return File.ReadAllText(shim).Split([' ', '\n', '\''], StringSplitOptions.RemoveEmptyEntries)
            .Where(word => word.StartsWith('/') && File.Exists(word) && word != "/bin/sh")
            .Select(word => Path.GetDirectoryName(word)!);
    }

    internal static bool IsUnder(string path, string folder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        return full == root || full.StartsWith(root + "/", StringComparison.Ordinal);
    }
}
