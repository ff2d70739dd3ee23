namespace AnalysisRunner.Core.Batch.Building;

/// <summary>
/// The batch a user is putting together (New-Batch, Add-BatchJob, Read-BatchInput…): mutable until
/// it is submitted, then frozen. <see cref="Build"/> turns it into the immutable <see cref="BatchSpec"/>
/// that DagValidator checks and the store keeps.
/// </summary>
public sealed class BatchBuilder
{
    private readonly List<JobBuilder> _jobs = [];
    private readonly List<InputSpec> _inputs = [];
    private readonly GuardedDictionary _attributes;
    private string _name;
    private string _tmpRoot;
    private string? _arGuid;
    private string? _configPath;
    private string? _defaultImage;
    private long? _submittedBatchId;

    public BatchBuilder(string name, string tmpRoot)
    {
        _name = CheckName(name);
        _tmpRoot = BucketPathRule.Check(tmpRoot, "InvalidTmpRoot", "Temporary root");
        _attributes = new GuardedDictionary(EnsureNotSubmitted);
    }

    public string Name
    {
        get => _name;
        set { EnsureNotSubmitted(); _name = CheckName(value); }
    }

    /// <summary>Where job resources live (the run's tmp bucket or a local folder).</summary>
    public string TmpRoot
    {
        get => _tmpRoot;
        set { EnsureNotSubmitted(); _tmpRoot = BucketPathRule.Check(value, "InvalidTmpRoot", "Temporary root"); }
    }

    public string? ArGuid
    {
        get => _arGuid;
        set { EnsureNotSubmitted(); _arGuid = value; }
    }

    public string? ConfigPath
    {
        get => _configPath;
        set { EnsureNotSubmitted(); _configPath = value; }
    }

    /// <summary>The image of a job that names none: inside a run, the run's driver image.</summary>
    public string? DefaultImage
    {
        get => _defaultImage;
        set { EnsureNotSubmitted(); _defaultImage = value; }
    }

    public IDictionary<string, string> Attributes => _attributes;
    public IReadOnlyList<JobBuilder> Jobs => _jobs;
    public IReadOnlyList<InputSpec> Inputs => _inputs;

    /// <summary>Set once, by Submit-Batch, to the id the store gave; from then on the batch cannot change.</summary>
    public long? SubmittedBatchId
    {
        get => _submittedBatchId;
        set
        {
            EnsureNotSubmitted();
            _submittedBatchId = value;
        }
    }

    public bool IsSubmitted => _submittedBatchId is not null;

    public JobBuilder AddJob(string name)
    {
        EnsureNotSubmitted();
        var job = new JobBuilder(this, _jobs.Count, name);
        _jobs.Add(job);
        return job;
    }

    public InputResource ReadInput(string path)
    {
        EnsureNotSubmitted();
        BucketPathRule.Check(path, "InvalidInputPath", "Input path");
        var input = new InputSpec { Index = _inputs.Count, Path = path };
        _inputs.Add(input);
        return new InputResource(input.Index, path, null);
    }

    /// <summary>Files read together, member name → bucket path, e.g. vcf → gs://b/x.vcf.gz, tbi → gs://b/x.vcf.gz.tbi.</summary>
    /// <summary>As above, for PowerShell callers, whose @{ } is a Hashtable.</summary>
    public InputResourceGroup ReadInputGroup(System.Collections.Hashtable members) =>
        ReadInputGroup(GroupMembers.FromDictionary(members));

    public InputResourceGroup ReadInputGroup(IReadOnlyDictionary<string, string> members)
    {
        EnsureNotSubmitted();
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
            throw new BatchValidationException("InvalidInputPath", ErrorKind.InvalidArgument, members,
                "An input group needs at least one member, e.g. @{ vcf = 'gs://bucket/x.vcf.gz'; tbi = 'gs://bucket/x.vcf.gz.tbi' }.");
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (member, path) in members)
        {
            ResourcePlaceholder.CheckName(member);
            copy[member] = BucketPathRule.Check(path, "InvalidInputPath", $"Input path of member '{member}'");
        }
        var input = new InputSpec { Index = _inputs.Count, Group = copy };
        _inputs.Add(input);
        return new InputResourceGroup(input.Index, copy);
    }

    /// <summary>A snapshot of the batch as it stands; validation against the executor is DagValidator's.</summary>
    public BatchSpec Build() => new()
    {
        Name = _name,
        ArGuid = _arGuid,
        Attributes = _attributes.Snapshot(),
        ConfigPath = _configPath,
        TmpRoot = _tmpRoot,
        Inputs = _inputs.ToArray(),
        Jobs = _jobs.Select(job => job.Build()).Select(job => job.Image is null && _defaultImage is not null ? job with { Image = _defaultImage } : job).ToArray(),
    };

    public override string ToString() => IsSubmitted ? $"{_name} (batch {_submittedBatchId})" : _name;

    internal void EnsureNotSubmitted()
    {
        if (_submittedBatchId is { } id)
            throw new AnalysisRunnerException("BatchAlreadySubmitted", ErrorKind.InvalidOperation, _name,
                $"Batch '{_name}' was already submitted as batch {id} and can no longer change; start another with New-Batch.");
    }

    private static string CheckName(string name) =>
        string.IsNullOrWhiteSpace(name)
            ? throw new BatchValidationException("InvalidBatchName", ErrorKind.InvalidArgument, name, "A batch needs a non-empty name.")
            : name;
}
