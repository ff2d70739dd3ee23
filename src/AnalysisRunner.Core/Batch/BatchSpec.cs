namespace AnalysisRunner.Core.Batch;

/// <summary>
/// A batch as submitted: a DAG of jobs that hand files to each other. Immutable; stored as JSON
/// beside the rows the executor schedules from, so what ran can always be read back.
/// </summary>
public sealed record BatchSpec
{
    public required string Name { get; init; }

    /// <summary>The analysis-runner run this batch belongs to (the driver batch and every batch it submits).</summary>
    public string? ArGuid { get; init; }

    /// <summary>Free-form labels: ar_guid, author, repository, commit… (Hail Batch's batch attributes).</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    /// <summary>The run config every job sees as CPG_CONFIG_PATH; null for a batch outside a run.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Root under which job resources live (the run's tmp bucket); the executor appends batch and job ids.</summary>
    public required string TmpRoot { get; init; }

    /// <summary>Files read from buckets; commands refer to them as {{ar:in:N}} or {{ar:in:N/member}}.</summary>
    public IReadOnlyList<InputSpec> Inputs { get; init; } = [];

    public required IReadOnlyList<JobSpec> Jobs { get; init; }
}

/// <summary>
/// One job. Its id in the batch is Index + 1. Commands run in order in one bash (set -e);
/// they may contain resource placeholders, resolved by the executor at run time.
/// </summary>
public sealed record JobSpec
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public IReadOnlyList<string> Commands { get; init; } = [];
    public string? Image { get; init; }

    /// <summary>
    /// The shell that runs the commands (Hail Batch's shell=): a POSIX shell named on PATH or by its
    /// absolute path, given the script with -c. Null is bash.
    /// </summary>
    public string? Shell { get; init; }
    public double Cpu { get; init; } = 1;
    public long MemoryBytes { get; init; } = 1L << 30;
    public long? StorageBytes { get; init; }
    public bool Preemptible { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    /// <summary>Ordering without a file (-DependsOn): indices of jobs that must finish first.</summary>
    public IReadOnlyList<int> DependsOn { get; init; } = [];

    /// <summary>Runs even after a parent failed or was cancelled (clean-up jobs).</summary>
    public bool AlwaysRun { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int MaxAttempts { get; init; } = 1;

    /// <summary>Resource groups this job writes: group name → member name → file name pattern with {root}.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ResourceGroups { get; init; }
        = new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>Copies made after the job succeeds: a resource of this job → a bucket path.</summary>
    public IReadOnlyList<OutputCopy> Outputs { get; init; } = [];

    /// <summary>Set for a driver job: clone this repository at this commit and run from Cwd inside it.</summary>
    public CheckoutSpec? Checkout { get; init; }
}

/// <summary>
/// A repository at one commit, and the folder inside it to run from. Script is the file the driver
/// runs, which the checkout checks again in the commit it cloned (CommitScripts); Mirror is the
/// runner's verified bare mirror the driver clones from, so the executor needs no network and no
/// credentials (the origin of the clone is set back to CloneUrl).
/// </summary>
public sealed record CheckoutSpec(string CloneUrl, string Commit, string Cwd)
{
    public string? Script { get; init; }
    public string? Mirror { get; init; }
}

/// <summary>After success, copy resource <paramref name="Resource"/> (a placeholder) to <paramref name="Destination"/>.</summary>
public sealed record OutputCopy(string Resource, string Destination);

/// <summary>A file (Path) or a group of files (Group: member → path) read from a bucket.</summary>
public sealed record InputSpec
{
    public required int Index { get; init; }
    public string? Path { get; init; }
    public IReadOnlyDictionary<string, string>? Group { get; init; }
}
