namespace AnalysisRunner.Core.Batch.Building;

/// <summary>
/// One job of a batch being built (Add-BatchJob). Its resources are placeholders for files it
/// writes; another job that uses them in a command runs after it. Frozen once the batch is submitted.
/// </summary>
public sealed partial class JobBuilder
{
    public const string DefaultResourceName = "out";

    private readonly List<string> _commands = [];
    private readonly List<int> _dependsOn = [];
    private readonly List<OutputCopy> _outputs = [];
    private readonly Dictionary<string, JobResource> _resources = new(StringComparer.Ordinal);
    private readonly GuardedDictionary _environment;
    private readonly GuardedDictionary _attributes;
    private string _name;
    private string? _image;
    private string? _shell;
    private double _cpu = 1;
    private long _memoryBytes = 1L << 30;
    private long? _storageBytes;
    private bool _preemptible;
    private bool _alwaysRun;
    private TimeSpan? _timeout;
    private int _maxAttempts = 1;

    internal JobBuilder(BatchBuilder batch, int index, string name)
    {
        Batch = batch;
        Index = index;
        _name = CheckName(name);
        _environment = new GuardedDictionary(batch.EnsureNotSubmitted);
        _attributes = new GuardedDictionary(batch.EnsureNotSubmitted);
    }

    public BatchBuilder Batch { get; }
    public int Index { get; }
    public int JobId => Index + 1;

    public string Name
    {
        get => _name;
        set { Batch.EnsureNotSubmitted(); _name = CheckName(value); }
    }

    public IReadOnlyList<string> Commands => _commands;
    public IReadOnlyList<int> DependsOn => _dependsOn;
    public IReadOnlyList<OutputCopy> Outputs => _outputs;

    public string? Image
    {
        get => _image;
        set { Batch.EnsureNotSubmitted(); _image = string.IsNullOrWhiteSpace(value) ? null : value; }
    }

    /// <summary>A shell named on PATH (sh, bash, zsh) or by absolute path; null for bash. It is looked up where the job runs.</summary>
    public string? Shell
    {
        get => _shell;
        set
        {
            Batch.EnsureNotSubmitted();
            if (value is not null && !ShellName().IsMatch(value))
                throw new AnalysisRunnerException("InvalidShell", ErrorKind.InvalidArgument, value,
                    $"Job '{_name}' (job {JobId}): shell '{value}' is not a program name (like sh or bash) or an absolute path, without spaces or arguments.");
            _shell = value;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\A(/[^\s\x00]+|[A-Za-z0-9_.+-]+)\z")]
    private static partial System.Text.RegularExpressions.Regex ShellName();

    public double Cpu
    {
        get => _cpu;
        set
        {
            Batch.EnsureNotSubmitted();
            if (!(value > 0) || value > ResourceQuantity.MaxCpu)
                throw new AnalysisRunnerException("InvalidCpu", ErrorKind.InvalidArgument, value,
                    $"Job '{_name}' (job {JobId}): cpu {value} is not a positive number of cores up to {ResourceQuantity.MaxCpu}.");
            _cpu = value;
        }
    }

    public long MemoryBytes
    {
        get => _memoryBytes;
        set { Batch.EnsureNotSubmitted(); _memoryBytes = Positive(value, "InvalidMemory", "memory"); }
    }

    public long? StorageBytes
    {
        get => _storageBytes;
        set { Batch.EnsureNotSubmitted(); _storageBytes = value is { } bytes ? Positive(bytes, "InvalidStorage", "storage") : null; }
    }

    public bool Preemptible
    {
        get => _preemptible;
        set { Batch.EnsureNotSubmitted(); _preemptible = value; }
    }

    public bool AlwaysRun
    {
        get => _alwaysRun;
        set { Batch.EnsureNotSubmitted(); _alwaysRun = value; }
    }

    public TimeSpan? Timeout
    {
        get => _timeout;
        set
        {
            Batch.EnsureNotSubmitted();
            if (value is { } timeout && timeout <= TimeSpan.Zero)
                throw new AnalysisRunnerException("InvalidTimeout", ErrorKind.InvalidArgument, value,
                    $"Job '{_name}' (job {JobId}): a timeout must be positive, e.g. 01:00:00 for an hour.");
            _timeout = value;
        }
    }

    public int MaxAttempts
    {
        get => _maxAttempts;
        set
        {
            Batch.EnsureNotSubmitted();
            if (value < 1)
                throw new AnalysisRunnerException("InvalidMaxAttempts", ErrorKind.InvalidArgument, value,
                    $"Job '{_name}' (job {JobId}): MaxAttempts must be at least 1.");
            _maxAttempts = value;
        }
    }

    public IDictionary<string, string> Environment => _environment;
    public IDictionary<string, string> Attributes => _attributes;

    /// <summary>The job's default output file (Hail's j.ofile).</summary>
    public JobResource Out => Resource(DefaultResourceName);

    public void AddCommand(string command)
    {
        Batch.EnsureNotSubmitted();
        if (string.IsNullOrWhiteSpace(command))
            throw new BatchValidationException("EmptyCommand", ErrorKind.InvalidArgument, command,
                $"Job '{_name}' (job {JobId}): a command must not be empty.");
        // A shell gets its script as a C string: a NUL would silently cut it short.
        if (command.Contains('\0'))
            throw new BatchValidationException("InvalidCommand", ErrorKind.InvalidArgument, command,
                $"Job '{_name}' (job {JobId}): a command must not contain a NUL character.");
        _commands.Add(command);
    }

    /// <summary>Runs this job after <paramref name="other"/> even though no file passes between them.</summary>
    public void DependOn(JobBuilder other)
    {
        Batch.EnsureNotSubmitted();
        ArgumentNullException.ThrowIfNull(other);
        if (!ReferenceEquals(other.Batch, Batch))
            throw new AnalysisRunnerException("JobFromAnotherBatch", ErrorKind.InvalidArgument, other.Name,
                $"Job '{_name}' (job {JobId}) cannot depend on '{other.Name}', which belongs to batch '{other.Batch.Name}', not '{Batch.Name}'.");
        if (ReferenceEquals(other, this))
            throw new BatchValidationException("DependencyCycle", ErrorKind.InvalidArgument, _name,
                $"Job '{_name}' (job {JobId}) cannot depend on itself.");
        if (!_dependsOn.Contains(other.Index)) _dependsOn.Add(other.Index);
    }

    /// <summary>A file this job writes, by name; the same name always gives the same resource.</summary>
    public JobResource Resource(string name)
    {
        if (_resources.TryGetValue(name, out var existing))
        {
            if (existing is JobResourceGroup)
                throw NameInUse(name, "a resource group");
            return existing;
        }
        Batch.EnsureNotSubmitted();
        var resource = new JobResource(this, name, null);
        _resources[name] = resource;
        return resource;
    }

    /// <summary>
    /// Files this job writes under one root: member → file name pattern containing {root},
    /// e.g. cram → "{root}.cram", crai → "{root}.cram.crai" (Hail's declare_resource_group).
    /// </summary>
    /// <summary>As above, for PowerShell callers, whose @{ } is a Hashtable.</summary>
    public JobResourceGroup ResourceGroup(string name, System.Collections.Hashtable members) =>
        ResourceGroup(name, GroupMembers.FromDictionary(members));

    public JobResourceGroup ResourceGroup(string name, IReadOnlyDictionary<string, string> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var copy = CheckMembers(name, members);
        if (_resources.TryGetValue(name, out var existing))
        {
            if (existing is JobResourceGroup group && SameMembers(group.Members, copy)) return group;
            throw NameInUse(name, existing is JobResourceGroup ? "a resource group with other members" : "a plain resource");
        }
        Batch.EnsureNotSubmitted();
        var created = new JobResourceGroup(this, name, copy);
        _resources[name] = created;
        return created;
    }

    /// <summary>After this job succeeds, copy <paramref name="resource"/> to <paramref name="destination"/> (Hail's write_output).</summary>
    public void WriteOutput(JobResource resource, string destination)
    {
        Batch.EnsureNotSubmitted();
        ArgumentNullException.ThrowIfNull(resource);
        if (!ReferenceEquals(resource.Job.Batch, Batch))
            throw new AnalysisRunnerException("ResourceFromAnotherBatch", ErrorKind.InvalidArgument, resource.ToString(),
                $"Job '{_name}' (job {JobId}) cannot write out a resource of batch '{resource.Job.Batch.Name}'; it belongs to '{Batch.Name}'.");
        BucketPathRule.Check(destination, "InvalidOutputPath", "Output destination");
        _outputs.Add(new OutputCopy(resource.ToString(), destination));
    }

    public override string ToString() => $"{_name} (job {JobId})";

    internal JobSpec Build() => new()
    {
        Index = Index,
        Name = _name,
        Commands = _commands.ToArray(),
        Image = _image,
        Shell = _shell,
        Cpu = _cpu,
        MemoryBytes = _memoryBytes,
        StorageBytes = _storageBytes,
        Preemptible = _preemptible,
        Environment = _environment.Snapshot(),
        Attributes = _attributes.Snapshot(),
        DependsOn = _dependsOn.ToArray(),
        AlwaysRun = _alwaysRun,
        Timeout = _timeout,
        MaxAttempts = _maxAttempts,
        ResourceGroups = _resources.Values.OfType<JobResourceGroup>()
            .ToDictionary(group => group.Name, group => group.Members, StringComparer.Ordinal),
        Outputs = _outputs.ToArray(),
    };

    private Dictionary<string, string> CheckMembers(string name, IReadOnlyDictionary<string, string> members)
    {
        ResourcePlaceholder.CheckName(name);
        if (members.Count == 0)
            throw InvalidGroup(name, "needs at least one member");
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (member, pattern) in members)
        {
            ResourcePlaceholder.CheckName(member);
            if (string.IsNullOrEmpty(pattern) || !pattern.Contains("{root}", StringComparison.Ordinal))
                throw InvalidGroup(name, $"member '{member}' has pattern '{pattern}' without {{root}}");
            if (pattern.Contains('/') || pattern.Any(char.IsControl))
                throw InvalidGroup(name, $"member '{member}' has pattern '{pattern}', which is not a plain file name");
            copy[member] = pattern;
        }
        return copy;
    }

    private static bool SameMembers(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);

    private BatchValidationException InvalidGroup(string name, string problem) =>
        new("InvalidResourceGroup", ErrorKind.InvalidArgument, name,
            $"Resource group '{name}' of job '{_name}' (job {JobId}) {problem}; e.g. @{{ cram = '{{root}}.cram'; crai = '{{root}}.cram.crai' }}.");

    private BatchValidationException NameInUse(string name, string what) =>
        new("ResourceNameInUse", ErrorKind.InvalidArgument, name,
            $"Job '{_name}' (job {JobId}) already has {what} named '{name}'; pick another name.");

    private long Positive(long value, string errorId, string what) =>
        value > 0
            ? value
            : throw new AnalysisRunnerException(errorId, ErrorKind.InvalidArgument, value,
                $"Job '{_name}' (job {JobId}): {what} must be a positive number of bytes, e.g. 4Gi.");

    private static string CheckName(string name) =>
        string.IsNullOrWhiteSpace(name)
            ? throw new BatchValidationException("InvalidJobName", ErrorKind.InvalidArgument, name, "A job needs a non-empty name.")
            : name;
}
