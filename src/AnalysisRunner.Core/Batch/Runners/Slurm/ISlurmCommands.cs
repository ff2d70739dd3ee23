namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// The Slurm command-line tools the runner uses, and nothing else: a fake drives the runner's unit
/// tests, SlurmCli the real cluster. Every call may block (it runs a program); the runner never calls
/// one on the scheduler's thread.
/// </summary>
internal interface ISlurmCommands
{
    /// <summary>
    /// sbatch --parsable: the new job's id. A refusal throws SlurmCommandException quoting Slurm; when
    /// Slurm could not be reached (SlurmTransientErrors) its ErrorId is SlurmSubmitUnavailable, and the
    /// job may or may not have been queued.
    /// </summary>
    string Submit(SbatchRequest request);

    /// <summary>Every job of this user that the controller still holds (any state) whose name starts with <paramref name="namePrefix"/>.</summary>
    IReadOnlyList<SlurmJobStatus> Queue(string namePrefix);

    /// <summary>A job the controller has forgotten: sacct where accounting exists, else sacct -c on the job-completion file; null when neither knows it.</summary>
    SlurmJobStatus? Completed(string jobId);

    /// <summary>What an ended job used, from accounting (sacct: TotalCPU, the largest MaxRSS of its steps, ElapsedRaw); null where there is no accounting or it does not know the job.</summary>
    ProcessUsage? Usage(string jobId);

    /// <summary>scancel, one call for all of them.</summary>
    void Cancel(IReadOnlyCollection<string> jobIds);

    /// <summary>The nodes of a partition (the default partition when null), for what one job may ask for.</summary>
    IReadOnlyList<SlurmNode> Nodes(string? partition);
}

/// <summary>One sbatch call: its options, the script file, and the environment sbatch itself runs with ("NAME=value").</summary>
internal sealed record SbatchRequest(IReadOnlyList<string> Options, string ScriptPath, IReadOnlyList<string> Environment);

/// <summary>
/// A job as Slurm reports it. State is Slurm's base state (COMPLETED, FAILED, RUNNING…); ExitCode is
/// the script's exit code, 128+signal when a signal ended it, null while it has none. Reason is
/// squeue's (DependencyNeverSatisfied, …); null where it was not asked (sacct).
/// </summary>
internal sealed record SlurmJobStatus(string JobId, string State, int? ExitCode, string Name, string? Reason = null);

/// <summary>One node: its cpus, memory and temporary disk (MB, as Slurm counts them).</summary>
internal sealed record SlurmNode(string Name, int Cpus, long MemoryMb, long TmpDiskMb);

/// <summary>A Slurm tool refused or failed; the message quotes what it said.</summary>
internal sealed class SlurmCommandException(string errorId, ErrorKind kind, object? target, string message, Exception? inner = null)
    : AnalysisRunnerException(errorId, kind, target, message, inner);
