using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Where resources live on this machine. A bucket URI gs://bucket/key is the file
/// &lt;home&gt;/buckets/bucket/key (the embedded store); absolute paths stay as they are. Job J's
/// resource r is &lt;TmpRoot&gt;/&lt;batch id&gt;/&lt;J's id&gt;.r; a group member is the group's pattern
/// with {root} replaced by the group's path. Made with ForBatch (as the executor does), every input
/// and output location is checked against the batch's scope as it is mapped.
/// </summary>
internal sealed class ResourcePaths
{
    private const string GcsScheme = "gs://";
    private readonly RunnerHome _home;
    private readonly long _batchId;
    private readonly string _tmpRoot;
    private readonly IReadOnlyList<InputSpec> _inputs;
    private readonly Func<string, BatchLocationUse, string>? _checked;

    /// <summary>Without a scope: only for tests of the mapping itself.</summary>
    internal ResourcePaths(RunnerHome home, long batchId, string tmpRoot, IReadOnlyList<InputSpec> inputs)
        : this(home, batchId, tmpRoot, inputs, null)
    {
    }

    private ResourcePaths(RunnerHome home, long batchId, string tmpRoot, IReadOnlyList<InputSpec> inputs, Func<string, BatchLocationUse, string>? check,
        BatchScope? scope = null)
    {
        Scope = scope;
        _home = home;
        _batchId = batchId;
        _tmpRoot = ToLocalPath(home, tmpRoot);
        _inputs = inputs;
        _checked = check;
    }

    /// <summary>
    /// The paths of a stored batch, checking each input and output against the batch's scope
    /// (BatchScope.Of: its logged run, or its author's membership) when it is mapped: the executor's
    /// second look at what BatchSubmitter checked at submit, made from the stored record.
    /// </summary>
    public static ResourcePaths ForBatch(RunnerHome home, long batchId, BatchSpec spec, ILoggedRuns loggedRuns)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var scope = BatchScope.Of(spec, loggedRuns);
        var rule = new BatchScopeRule(home, DatasetRegistry.Load(home.RegistryPath));
        return new ResourcePaths(home, batchId, spec.TmpRoot, spec.Inputs, (location, use) =>
        {
            rule.Check(scope, location, use);
            return ToLocalPath(home, location);
        }, scope);
    }

    /// <summary>The batch's scope as ForBatch derived it; its Run (verified in the audit log) is the one its jobs get a capability for.</summary>
    public BatchScope? Scope { get; }

    /// <summary>Dataset and access level of the verified run, for choosing a scope's store and key (never the batch's own attributes); empty outside a run.</summary>
    public IReadOnlyDictionary<string, string> ScopeAttributes =>
        Scope?.Run is { } run
            ? new Dictionary<string, string> { ["dataset"] = run.Dataset, ["access_level"] = run.AccessLevel.ToConfigName() }
            : new Dictionary<string, string>();

    /// <summary>
    /// Checked again right before the executor copies a succeeded job's outputs (and, on GCS, uploads
    /// its own resources), since the job itself ran in between: no link anywhere in what is copied or
    /// uploaded (a job can replace its output by a link to the runner's key), the batch's resource
    /// folder itself no link, and every destination still in scope with no link on the way (a job can
    /// link a folder of its own bucket to anywhere). Returns why the copy is refused, or null.
    /// </summary>
    public string? CheckCopies(IReadOnlyList<(string Source, string Destination)> outputs, IReadOnlyList<string> ownResources)
    {
        if (_checked is null) return null;
        try
        {
            RefuseLink(new DirectoryInfo(BatchRoot));
            foreach (var source in outputs.Select(output => output.Source).Concat(ownResources).Distinct(StringComparer.Ordinal))
                RefuseLinksUnder(source);
            foreach (var (_, destination) in outputs) _checked(destination, BatchLocationUse.Output);
            return null;
        }
        catch (AnalysisRunnerException e)
        {
            return $"OutputCopyRefused: {e.Message}";
        }
    }

    private static void RefuseLinksUnder(string path)
    {
        var entries = Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null
            ? new DirectoryInfo(path).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            : [];
        foreach (var entry in entries.Prepend(new FileInfo(path)))
            RefuseLink(entry);
    }

    private static void RefuseLink(FileSystemInfo entry)
    {
        if (entry.LinkTarget is not null)
            throw new BatchValidationException("OutputIsLink", ErrorKind.PermissionDenied, entry.FullName,
                $"'{entry.FullName}' is a symbolic link (to '{entry.LinkTarget}'); a job's outputs are copied as files, never through a link.");
    }

    /// <summary>The local file an output destination is copied to, once the batch's scope allows it.</summary>
    public string OutputPath(string destination) =>
        _checked is null ? ToLocalPath(_home, destination) : _checked(destination, BatchLocationUse.Output);

    private string InputPath(string location) =>
        _checked is null ? ToLocalPath(_home, location) : _checked(location, BatchLocationUse.Input);

    /// <summary>Maps a bucket URI or an absolute path to a local absolute path.</summary>
    public static string ToLocalPath(RunnerHome home, string location)
    {
        if (location.StartsWith(GcsScheme, StringComparison.Ordinal))
        {
            var rest = location[GcsScheme.Length..];
            var slash = rest.IndexOf('/');
            var bucket = slash < 0 ? rest : rest[..slash];
            var key = slash < 0 ? "" : rest[(slash + 1)..];
            var bucketRoot = Path.Combine(home.BucketsDirectory, bucket);
            var full = Path.GetFullPath(Path.Combine(bucketRoot, key));
            if (bucket.Length == 0 || bucket is "." or ".." || !IsInside(full, bucketRoot))
                throw new StorageException("InvalidBucketPath", ErrorKind.InvalidArgument, location,
                    $"'{location}' is not a path inside a bucket (expected gs://bucket/key without '..').");
            return full;
        }
        if (Path.IsPathFullyQualified(location)) return Path.GetFullPath(location);
        throw new StorageException("InvalidResourceLocation", ErrorKind.InvalidArgument, location,
            $"'{location}' is neither a gs:// URI nor an absolute path.");
    }

    /// <summary>The folder holding every resource of the batch: &lt;TmpRoot&gt;/&lt;batch id&gt;/.</summary>
    public string BatchRoot => Path.Combine(_tmpRoot, _batchId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Where resource <paramref name="name"/> of job <paramref name="jobIndex"/> lives: &lt;job id&gt;.&lt;name&gt;
    /// in the batch's folder (job ids, as Get-BatchJob shows them; no folder per job, so writing one
    /// resource creates one file). The job id ends at the first dot, so no two resources share a path.
    /// </summary>
    public string JobResource(int jobIndex, string name) =>
        Path.Combine(BatchRoot, (jobIndex + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + name);

    /// <summary>
    /// The local path of one placeholder. <paramref name="groupsOf"/> gives a job's resource groups
    /// (only asked for group members).
    /// </summary>
    public string Resolve(PlaceholderUse use, Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> groupsOf)
    {
        if (use.InputIndex is { } inputIndex)
        {
            var input = _inputs.FirstOrDefault(i => i.Index == inputIndex)
                ?? throw Unresolved(use, $"input {inputIndex} is not declared");
            if (use.Member is null)
                return InputPath(input.Path ?? throw Unresolved(use, $"input {inputIndex} is a group; name a member"));
            if (input.Group is null || !input.Group.TryGetValue(use.Member, out var memberPath))
                throw Unresolved(use, $"input {inputIndex} has no member '{use.Member}'");
            return InputPath(memberPath);
        }

        var jobIndex = use.JobIndex!.Value;
        var root = JobResource(jobIndex, use.Name!);
        if (use.Member is null) return root;
        if (groupsOf(jobIndex).TryGetValue(use.Name!, out var members) && members.TryGetValue(use.Member, out var pattern))
            return pattern.Replace("{root}", root, StringComparison.Ordinal);
        throw Unresolved(use, $"job {jobIndex} declares no resource group '{use.Name}' with member '{use.Member}'");
    }

    /// <summary>
    /// The paths of the resources <paramref name="job"/> writes itself (its own placeholders in its
    /// commands, and every member of its groups), distinct.
    /// </summary>
    public IReadOnlyList<string> OwnResources(JobSpec job)
    {
        var paths = new List<string>();
        foreach (var use in job.Commands.SelectMany(ResourcePlaceholder.Find))
            if (use.JobIndex == job.Index && use.Member is null) paths.Add(JobResource(job.Index, use.Name!));
        foreach (var (group, members) in job.ResourceGroups)
            foreach (var pattern in members.Values)
                paths.Add(pattern.Replace("{root}", JobResource(job.Index, group), StringComparison.Ordinal));
        return paths.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Replaces every placeholder in <paramref name="command"/> with its shell-quoted local path.</summary>
    public string ResolveCommand(string command, Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> groupsOf) =>
        ResourcePlaceholder.Pattern().Replace(command, match =>
            ShellQuoting.Quote(Resolve(ResourcePlaceholder.Find(match.Value).Single(), groupsOf)));

    private static bool IsInside(string path, string root)
    {
        var fullRoot = Path.GetFullPath(root).TrimEnd('/') + "/";
        return (path + "/").StartsWith(fullRoot, StringComparison.Ordinal);
    }

    private static BatchValidationException Unresolved(PlaceholderUse use, string why) =>
        new("UnresolvedResource", ErrorKind.InvalidData, use.Text, $"Cannot resolve {use.Text}: {why}.");
}
