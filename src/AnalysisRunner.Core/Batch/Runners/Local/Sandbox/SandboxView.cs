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

    /// <summary>The batch's inputs, read-only: the real path (resolved and checked when the view is made) bound where the batch names it.</summary>
    public IReadOnlyList<(string Source, string Destination)> Inputs { get; init; } = [];

    /// <summary>Folders that are an empty tmpfs of the batch's own (HOME: jobs may write there; what is bound under it shows through).</summary>
    public required IReadOnlyList<string> Folders { get; init; }

    /// <summary>The batch's run channel (a socket outside the sandbox), shown at <see cref="Runs.Channel.RunChannel.SandboxPath"/>; null for a batch of no run.</summary>
    public string? Channel { get; init; }

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
        var (readOnly, symlinks) = EveryBatchSees(home, AppContext.BaseDirectory);
        readOnly.Add(Path.GetDirectoryName(launcher)!);
        var config = Variable(launch, Execution.JobEnvironment.ConfigVariable);
        if (config is not null && File.Exists(config)) readOnly.Add(config);
        // Nothing shown may be the home itself (a module folder there, say): only named parts of it are shown.
        readOnly.RemoveAll(path => IsUnder(home.Root, path) && IsUnder(path, home.Root));

        var readWrite = new List<string>
        {
            LocalLayout.SharedWork(home, launch.Key.BatchId),
            LocalLayout.BatchLogs(home, launch.Key.BatchId),
        };
        // Scripts too long for an argument are written there by the executor: read-only, so no job plants a link for it to write through.
        readOnly.Add(LocalLayout.Scripts(home, launch.Key.BatchId));
        var scope = ScopeBuckets(home, settings, launch.RunScope);
        readWrite.AddRange(scope);
        // Every later batch of the scope has its resource folder in <bucket>/batch (RunAuthority's tmp root):
        // read-only here, so a job cannot put a link where the executor will make the next batch's folder
        // (its own resource folder, bound after it, stays writable).
        readOnly.AddRange(scope.Select(bucket => Path.Combine(bucket, "batch")).Where(Directory.Exists));
        // The batch's resource folder (<tmp root>/<batch id>) and its inputs: the executor has checked each
        // against the batch's scope (ResourcePaths.ForBatch: its run's buckets, or outside a run its
        // author's and local-tmp, or local files outside the home); here, besides, nothing of the home
        // outside its buckets is shown whatever a batch names, judged by where a path leads, not how it is
        // written (a link outside the home to its keys is not shown).
        if (launch.BatchResourceRoot is { } resources && MayShow(home, resources))
        {
            if (ResourceParentShown(resources, scope) is { } tmpRoot) readOnly.Add(tmpRoot);
            readWrite.Add(resources);
        }
        var inputs = new List<(string Source, string Destination)>();
        foreach (var input in launch.BatchInputs)
            if (InputSource(home, input) is { } real) inputs.Add((real, Path.GetFullPath(input)));

        var userHome = Environment.GetEnvironmentVariable("HOME");
        return new SandboxView
        {
            HomeRoot = home.Root,
            ReadOnly = readOnly.Distinct(StringComparer.Ordinal).ToList(),
            ReadWrite = readWrite.Distinct(StringComparer.Ordinal).ToList(),
            Inputs = inputs,
            Symlinks = symlinks,
            Folders = string.IsNullOrEmpty(userHome) || !Path.IsPathFullyQualified(userHome) || userHome == "/" || IsUnder(userHome, home.Root) ? [] : [userHome],
            Network = settings.SandboxNetwork ?? settings.StorageBackend == "gcs",
        };
    }

    /// <summary>
    /// What every batch's sandbox shows read-only, whichever batch it is: /usr, the /bin, /lib… folders
    /// (or the links to them, returned apart), the /etc entries, the .NET runtime, the folder holding
    /// the executor's folder (<paramref name="executorFolder"/>: the module, on PSModulePath), the home's
    /// bin and what its pwsh shim runs (none without a home). The one list: a batch's view starts from
    /// it, and the server's start-up check (SecretExposure) judges where its secrets are against it.
    /// </summary>
    internal static (List<string> ReadOnly, List<(string Link, string Target)> Symlinks) EveryBatchSees(RunnerHome? home, string executorFolder)
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
        // The .NET runtime (pwsh, the module) when it is not under /usr, the module's folder, and what the pwsh shim runs.
        readOnly.Add(DotnetRoot());
        readOnly.Add(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(executorFolder))!);
        if (home is not null)
        {
            readOnly.Add(home.BinDirectory);
            readOnly.AddRange(ShimTargets(home));
        }
        return (readOnly, symlinks);
    }

    /// <summary>A path the batch names (resources, inputs) is shown if it is outside the home (and holds no part of it) or inside one of its buckets.</summary>
    internal static bool MayShow(RunnerHome home, string path)
    {
        var full = Path.GetFullPath(path);
        // The home as written and as it resolves (a home under a linked folder): a resolved path is judged against both.
        var realHome = Native.LinkFreePaths.Resolve(home.Root) ?? home.Root;
        foreach (var root in new[] { home.Root, realHome }.Distinct(StringComparer.Ordinal))
        {
            if (!IsUnder(full, root) && !IsUnder(root, full)) continue;
            var buckets = Path.Join(root, Path.GetRelativePath(home.Root, home.BucketsDirectory));
            // Inside a bucket, not the buckets folder itself or a bucket as a whole.
            return IsUnder(full, buckets) && Path.GetRelativePath(buckets, full).Contains('/');
        }
        return true;
    }

    /// <summary>
    /// What to bind for an input: its real path, when it exists and leads where it says — a file outside
    /// the home that stays outside it, or one inside a bucket reached through no link. Null otherwise (not shown).
    /// </summary>
    internal static string? InputSource(RunnerHome home, string input)
    {
        if (!MayShow(home, input) || Native.LinkFreePaths.Resolve(input) is not { } real) return null;
        if (Native.LinkFreePaths.LeadsInto(input, home.Root))
            return real == Native.LinkFreePaths.Expected(input, home.Root) && MayShow(home, real) ? real : null;
        return Native.LinkFreePaths.LeadsInto(real, home.Root) ? null : real;
    }

    /// <summary>The folder holding the batch's resource folder (its tmp root) when a shown bucket holds it: shown read-only, so no job of the batch makes a sibling link there.</summary>
    private static string? ResourceParentShown(string resources, IEnumerable<string> buckets)
    {
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(resources)));
        return parent is not null && buckets.Any(bucket => IsUnder(parent, bucket) && !IsUnder(bucket, parent)) ? parent : null;
    }

    /// <summary>
    /// Refuses a view whose bind sources in the runner home lead elsewhere through a link (bwrap follows
    /// links in a source): each must resolve to itself. The executor has just made its folders without
    /// following links; a link found now was made by a job in a folder it may write.
    /// </summary>
    public void CheckNoLinks()
    {
        foreach (var path in ReadOnly.Concat(ReadWrite).Where(path => IsUnder(path, HomeRoot)))
            if (!Native.LinkFreePaths.IsLinkFree(path, HomeRoot))
                throw new AnalysisRunnerException(LinkedBindErrorId, ErrorKind.PermissionDenied, path,
                    $"'{path}' leads elsewhere through a symbolic link ({Native.LinkFreePaths.Resolve(path) ?? "nowhere"}); a sandbox never shows a folder of the runner home through a link.");
    }

    /// <summary>
    /// Makes a folder the executor uses for a batch: in the runner home without following a link (a link
    /// where the folder goes is replaced by the folder; one above it fails the start, <see cref="LinkedBindErrorId"/>).
    /// </summary>
    public static void MakeFolder(string path, string homeRoot)
    {
        if (!IsUnder(path, homeRoot)) { Directory.CreateDirectory(path); return; }
        try { Native.LinkFreePaths.CreateFolder(path, homeRoot); }
        catch (IOException e)
        {
            throw new AnalysisRunnerException(LinkedBindErrorId, ErrorKind.PermissionDenied, path,
                $"Could not make '{path}' without following a symbolic link: {e.Message}");
        }
    }

    /// <summary>The error id of a batch's start refused because a folder its sandbox would show is reached through a link.</summary>
    public const string LinkedBindErrorId = "SandboxBindThroughLink";

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
