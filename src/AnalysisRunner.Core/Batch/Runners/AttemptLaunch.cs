namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// Everything a runner needs to start one attempt, decided by the scheduler before the attempt's
/// Running row is committed: the commands with placeholders resolved, the variables the job gets
/// (its own, then the runner's context), where it works, and its resources. Nothing in it is
/// specific to where jobs run; each runner turns it into its own form (a shell in a session, a
/// line to a sandboxed launcher, an sbatch script).
/// </summary>
internal sealed record AttemptLaunch
{
    public required AttemptKey Key { get; init; }
    public required string JobName { get; init; }

    /// <summary>The job's commands, placeholders resolved to shell-quoted paths, one per line; run in order under set -e.</summary>
    public required string Command { get; init; }

    /// <summary>The shell that runs Command (Hail's shell=); null is the runner's default, bash.</summary>
    public string? Shell { get; init; }

    /// <summary>The job's variables: its -Environment, then the runner's context (AR_*, CPG_CONFIG_PATH…), which wins.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; }

    /// <summary>Names a runner must not pass on from its own environment (a cloud key the job is not meant to hold).</summary>
    public IReadOnlySet<string> Withheld { get; init; } = new HashSet<string>();

    /// <summary>Where the job runs: its batch's shared folder, or a private folder of its own (a driver's checkout, -Storage scratch).</summary>
    public required WorkFolder Work { get; init; }

    /// <summary>A driver's repository: cloned and checked out into the private work folder before the command runs.</summary>
    public CheckoutSpec? Checkout { get; init; }

    /// <summary>
    /// Parent attempts still with the runner when this one is started (only for a runner that
    /// StartsAfterParents): it may start once they have all succeeded, or all ended when AfterAny
    /// (an AlwaysRun job). Empty: it may start now.
    /// </summary>
    public IReadOnlyList<AttemptKey> After { get; init; } = [];
    public bool AfterAny { get; init; }

    public TimeSpan? Timeout { get; init; }
    public double Cpu { get; init; }
    public long MemoryBytes { get; init; }
    public long? StorageBytes { get; init; }
    public string? Image { get; init; }
    public bool Preemptible { get; init; }

    /// <summary>The dataset the run is for (who pays, on a cluster with accounts) and the run's ar_guid; null outside a run.</summary>
    public string? Dataset { get; init; }
    public string? ArGuid { get; init; }

    /// <summary>Folders the job's resources need before it starts (a resource group whose pattern has a folder in it).</summary>
    public IReadOnlyList<string> ResourceFolders { get; init; } = [];

    /// <summary>
    /// The verified run the batch belongs to (from the audit log, never from the batch's own config or
    /// attributes): its dataset and access level, whose buckets a per-batch sandbox shows. Null outside a run.
    /// </summary>
    public (string Dataset, AccessLevel AccessLevel)? RunScope { get; init; }

    /// <summary>The folder every resource of the batch lives in (what a per-batch sandbox shows read-write).</summary>
    public string? BatchResourceRoot { get; init; }

    /// <summary>The batch's input files on this machine (what a per-batch sandbox shows read-only, where its rules allow).</summary>
    public IReadOnlyList<string> BatchInputs { get; init; } = [];

    /// <summary>On a cloud storage backend: the bucket files it reads, fetched into the local cache first.</summary>
    public Execution.JobStaging? Staging { get; init; }
    public IReadOnlyList<string> Reads { get; init; } = [];
}

/// <summary>
/// A job's working folder: its batch's shared one, or a private one (started empty each attempt) for
/// a job that uses one — a driver's checkout, or scratch space asked for with -Storage. Where each is,
/// is the runner's to say.
/// </summary>
internal enum WorkFolder
{
    Shared,
    Private,
}
