namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// Where jobs run, as the scheduler drives it: one scheduler (JobGraph and its transitions, in the
/// executor) and one runner per place jobs can run — local processes (LocalJobRunner), later a
/// per-batch sandboxed launcher and Slurm. The scheduler decides what runs when and persists every
/// transition before it takes effect; the runner starts, stops and watches attempts and reports each
/// end to the sink it was created with, as it arrives. A runner never blocks its caller on a child:
/// Start returns before the attempt has started.
/// </summary>
internal interface IJobRunner : IDisposable
{
    RunnerCapacity Capacity { get; }

    /// <summary>
    /// Whether this runner can be given an attempt before its parents have ended (AttemptLaunch.After)
    /// and hold it until they have — Slurm's --dependency. A runner that cannot (local processes) is
    /// given a job only once its parents have succeeded.
    /// </summary>
    bool StartsAfterParents { get; }

    /// <summary>
    /// The runner that runs the jobs of <paramref name="dataset"/> (the verified run's; null outside a
    /// run): this one, or another where [executor.datasets.&lt;name&gt;] says so. The scheduler asks it
    /// for every attempt, its capacity and whether it StartsAfterParents.
    /// </summary>
    IJobRunner For(string? dataset) => this;

    /// <summary>
    /// Where the attempt's output will go, in the runner's own terms, fixed before the attempt's
    /// Running row is committed, so the store records it and IJobLogReader finds it.
    /// </summary>
    string ReserveLog(AttemptKey key);

    /// <summary>Starts the attempt (its Running row is committed) without waiting for it to start. Its end is reported to the sink.</summary>
    void Start(AttemptLaunch launch, string log);

    /// <summary>Stops an attempt; its end is reported with this reason (the first reason given wins).</summary>
    void Stop(AttemptKey key, string reason);

    /// <summary>
    /// After a restart: what became of the attempts of these batches that a previous executor
    /// started, by what the runner itself recorded (exit statuses, live processes, cluster state),
    /// whatever the store says. Leftovers that cannot be adopted are cleaned up. Each batch comes with
    /// its verified run's dataset (null outside a run, or where its scope cannot be derived), the one
    /// For routes its attempts by: a runner of several datasets hands each batch to its dataset's runner.
    /// </summary>
    IReadOnlyList<RecoveredAttempt> Recover(IReadOnlyDictionary<long, string?> batches);

    /// <summary>Takes over an attempt Recover found still running; its end is reported as if this runner had started it.</summary>
    void Adopt(AttemptLaunch launch, RecoveredAttempt attempt);

    /// <summary>The batch has finished: release what the runner holds for it (log files, a sandbox, scratch folders).</summary>
    void BatchFinished(long batchId);
}

/// <summary>Where a runner reports the ends of attempts, in the order they happen (any thread).</summary>
internal interface IAttemptSink
{
    void Ended(AttemptEnded ended);
}
