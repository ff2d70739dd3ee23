using System.Threading.Channels;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The one scheduler of a runner home. A single loop owns the in-memory DAG (JobGraph) and the
/// executor's database connection; the runner, the socket and timers only post events to it, so
/// nothing is shared between threads and nothing sleeps. Each round of events becomes one
/// transaction, written before its effects: a child starts only after its parent's end is committed,
/// an attempt's Running row is committed before the runner is asked to start it. Where jobs run is
/// the runner's business (IJobRunner); what runs when is this loop's.
/// </summary>
internal sealed class BatchScheduler : IDisposable, IAttemptSink
{
    private abstract record SchedulerEvent;
    private sealed record WakeEvent : SchedulerEvent;
    private sealed record StopEvent : SchedulerEvent;
    private sealed record IdleEvent(int Generation) : SchedulerEvent;
    private sealed record EndedEvent(AttemptEnded Ended) : SchedulerEvent;
    private sealed record PublishedEvent(InFlight Attempt, AttemptEnded Ended, string? Error) : SchedulerEvent;

    private readonly RunnerHome _home;
    private readonly ExecutorOptions _options;
    private readonly TextWriter _log;
    private readonly IJobLedger _ledger;
    private readonly IJobRunner _runner;
    private readonly AttemptPlanner _planner;
    private readonly OutputCopier _outputs;
    private readonly ExecutorSignalServer _signals;
    private readonly Channel<SchedulerEvent> _events = Channel.CreateUnbounded<SchedulerEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, BatchGraph> _batches = [];
    private readonly LinkedList<JobNode> _ready = new();
    private readonly Dictionary<AttemptKey, InFlight> _inFlight = [];
    private long _lastBatchId;

    /// <summary>What each runner has free (one per runner's capacity: local processes and Slurm, with per-dataset runners).</summary>
    private readonly Dictionary<RunnerCapacity, FreeCapacity> _free = new(ReferenceEqualityComparer.Instance);
    private int _idleGeneration;
    private bool _idleArmed;
    private bool _stopping;

    public BatchScheduler(Deployment deployment, ExecutorOptions options, TextWriter log)
    {
        _home = deployment.Home;
        _options = options;
        _log = log;
        _ledger = deployment.OpenJobLedger();
        _runner = deployment.Runner.CreateRunner(options, this, log);
        _planner = new AttemptPlanner(_home, _ledger, deployment.LoggedRuns, JobStaging.For(deployment));
        // Outputs land in the home's bucket folders (on gcs, the cache the upload reads from).
        _outputs = new OutputCopier(new Storage.LocalFolderStore(_home.BucketsDirectory));
        _signals = new ExecutorSignalServer(_home, () => _events.Writer.TryWrite(new WakeEvent()), () => _events.Writer.TryWrite(new StopEvent()));
    }

    /// <summary>What one runner can still give; the scheduler's own count, reserved at start and given back at the end.</summary>
    internal sealed class FreeCapacity(RunnerCapacity capacity)
    {
        public RunnerCapacity Capacity { get; } = capacity;
        public double Cpu { get; set; } = capacity.AtOnce.Cpu;
        public long MemoryBytes { get; set; } = capacity.AtOnce.MemoryBytes;
        public bool Full => Cpu < 1e-9 || MemoryBytes <= 0;
    }

    /// <summary>The runner a batch's jobs go to: by the verified run's dataset (known once the batch's spec is read).</summary>
    private IJobRunner RunnerFor(BatchGraph batch) => _runner.For(batch.Dataset);

    private FreeCapacity FreeFor(IJobRunner runner)
    {
        var capacity = runner.Capacity;
        if (!_free.TryGetValue(capacity, out var free)) _free[capacity] = free = new FreeCapacity(capacity);
        return free;
    }

    /// <summary>The runner reports an attempt's end (any thread): one hop onto the loop.</summary>
    void IAttemptSink.Ended(AttemptEnded ended) => _events.Writer.TryWrite(new EndedEvent(ended));

    /// <summary>Recovers, then schedules until idle or told to stop. The caller holds the home's executor lock.</summary>
    public async Task<int> RunAsync()
    {
        var changes = new TransitionSet();
        await LoadNewBatchesAsync(changes, recovering: true);
        await CommitAsync(changes);
        _signals.Open();
        Log($"executor {Environment.ProcessId} listening; capacity {_runner.Capacity.AtOnce.Cpu} cpu, {_runner.Capacity.AtOnce.MemoryBytes} bytes; {_batches.Count} batch(es) to finish");
        await ScheduleAsync(new TransitionSet());

        while (true)
        {
            if (await CheckIdleAsync() && _stopping) break;
            var first = await _events.Reader.ReadAsync();
            var round = new List<SchedulerEvent> { first };
            while (_events.Reader.TryRead(out var more)) round.Add(more);

            changes = new TransitionSet();
            bool wake = false, stop = false, idleCheck = false;
            foreach (var e in round)
            {
                switch (e)
                {
                    case EndedEvent ended: Ended(ended.Ended, changes); break;
                    case PublishedEvent published: Conclude(published.Attempt, published.Ended, published.Error, changes); break;
                    case WakeEvent: wake = true; break;
                    case StopEvent: stop = true; break;
                    case IdleEvent idle when idle.Generation == _idleGeneration: idleCheck = true; break;
                }
            }
            if (wake && !_stopping)
            {
                await LoadNewBatchesAsync(changes, recovering: false);
                await CancelRequestedAsync(changes);
            }
            if (stop && !_stopping)
            {
                Log("stop requested");
                _stopping = true;
                foreach (var attempt in _inFlight.Values) RunnerFor(attempt.Node.Batch).Stop(attempt.Key, StopReasons.Interrupted);
            }
            if (_stopping)
            {
                await CommitAsync(changes);
                if (_inFlight.Count == 0) break;
                continue;
            }
            // Ends and the starts they allow land in one transaction, before any new attempt starts.
            await ScheduleAsync(changes);
            if (idleCheck && IsIdle() && !await StillHasWorkAsync()) break;
        }

        _signals.Close();
        Log($"executor {Environment.ProcessId} exiting");
        return 0;
    }

    /// <summary>Before exiting for idleness: stop listening, then look once more, so a submit that raced the close is not lost.</summary>
    private async Task<bool> StillHasWorkAsync()
    {
        _signals.Close();
        var changes = new TransitionSet();
        await LoadNewBatchesAsync(changes, recovering: false);
        await CommitAsync(changes);
        if (_batches.Count == 0) return false;
        _signals.Open();
        await ScheduleAsync(new TransitionSet());
        return true;
    }

    /// <summary>Arms the idle timer when nothing runs or waits; returns whether the loop is idle.</summary>
    private async Task<bool> CheckIdleAsync()
    {
        if (!IsIdle())
        {
            if (_idleArmed) { _idleArmed = false; _idleGeneration++; }
            return false;
        }
        await FailUnschedulableAsync();
        if (!_idleArmed && !_stopping)
        {
            _idleArmed = true;
            var generation = ++_idleGeneration;
            _ = Task.Delay(_options.IdleTimeout).ContinueWith(_ => _events.Writer.TryWrite(new IdleEvent(generation)), TaskScheduler.Default);
        }
        return true;
    }

    private bool IsIdle()
    {
        if (_inFlight.Count > 0) return false;
        while (_ready.First is { } first && first.Value.State != JobState.Ready) _ready.RemoveFirst();
        return _ready.Count == 0;
    }

    /// <summary>Jobs that wait with nothing running and nothing ready can never run (a cycle the validator missed).</summary>
    private async Task FailUnschedulableAsync()
    {
        if (_batches.Count == 0 || _stopping) return;
        var changes = new TransitionSet();
        foreach (var batch in _batches.Values.ToList())
            foreach (var job in batch.Jobs)
                if (job.State == JobState.Pending)
                    JobGraph.Finish(job, JobState.Failed, "Unschedulable", null, changes);
        await CommitAsync(changes);
    }

    /// <summary>An attempt's process ended: its capacity is free now; it counts as Succeeded once its outputs are published.</summary>
    private void Ended(AttemptEnded ended, TransitionSet changes)
    {
        if (!_inFlight.TryGetValue(ended.Key, out var attempt)) return;
        Release(attempt);
        if (ended is { ExitCode: 0, StopReason: null, Error: null } && attempt.Plan.Publishes && !JobGraph.WaitsOnParents(attempt.Node))
        {
            _ = Task.Run(() => _events.Writer.TryWrite(new PublishedEvent(attempt, ended, _outputs.Publish(attempt.Plan))));
            return;
        }
        Conclude(attempt, ended, ended.Error, changes);
    }

    private void Conclude(InFlight attempt, AttemptEnded ended, string? error, TransitionSet changes)
    {
        _inFlight.Remove(attempt.Key);
        var job = attempt.Node;
        job.InFlight = null;
        changes.Attempts.Add(new AttemptChange(ended.Key, Started: false, ended.Log, ended.ExitCode, ended.StopReason ?? error) { Usage = ended.Usage });
        JobGraph.Ended(job, ended.ExitCode, ended.StopReason, error, changes);
    }

    private void Release(InFlight attempt)
    {
        if (attempt.Released) return;
        attempt.Released = true;
        attempt.Pool.Cpu += attempt.Reserved.Cpu;
        attempt.Pool.MemoryBytes += attempt.Reserved.MemoryBytes;
    }

    private async Task CancelRequestedAsync(TransitionSet changes)
    {
        foreach (var batchId in await _ledger.CancelRequestsAsync())
        {
            if (!_batches.TryGetValue(batchId, out var batch) || batch.CancelRequested) continue;
            Log($"batch {batchId}: cancel requested");
            Cancel(batch, changes);
        }
    }

    private void Cancel(BatchGraph batch, TransitionSet changes)
    {
        JobGraph.Cancel(batch, changes);
        foreach (var job in batch.Jobs)
            if (job.InFlight is { } attempt) RunnerFor(batch).Stop(attempt.Key, StopReasons.Cancelled);
    }

    /// <summary>
    /// Batches the store shows unfinished that this loop does not hold yet. At start (recovering) that
    /// is every one, and the runner's record of their attempts is applied first (Recovery).
    /// </summary>
    private async Task LoadNewBatchesAsync(TransitionSet changes, bool recovering)
    {
        var loaded = new List<BatchGraph>();
        foreach (var row in await _ledger.LoadBatchesAsync(_lastBatchId))
        {
            _lastBatchId = Math.Max(_lastBatchId, row.Id);
            if (_batches.ContainsKey(row.Id)) continue;
            if (JobGraph.Malformed(row) is { } why)
            {
                // Rows written past the store (a job reaching a shared database) stop this batch, never the executor.
                Log($"batch {row.Id}: not loaded, its job rows are not a batch: {why}");
                continue;
            }
            var batch = JobGraph.Build(row);
            foreach (var job in row.Jobs.Where(job => job.Stored is not null))
            {
                // Before Recovery's and Reconcile's transitions of the same job, which follow from this state.
                changes.Jobs.Add(new JobTransition(row.Id, job.JobId, job.State, job.Attempt, job.Reason, job.ExitCode));
                Log($"batch {row.Id}: job {job.JobId} is {job.State}, where the store said {job.Stored}: the executor's record of what it finished decides");
            }
            _batches[row.Id] = batch;
            loaded.Add(batch);
            Log($"batch {row.Id}: loaded {row.Jobs.Count} job(s)");
        }
        if (recovering)
            foreach (var survivor in await new Recovery(_runner, _planner, _outputs, _log).ApplyAsync(loaded, changes))
                Adopt(survivor);
        foreach (var batch in loaded)
        {
            JobGraph.Reconcile(batch, changes);
            if (batch.CancelRequested && batch.Unfinished > 0) Cancel(batch, changes);
        }
    }

    private void Adopt(Recovery.Survivor survivor)
    {
        var runner = RunnerFor(survivor.Node.Batch);
        var attempt = Track(survivor.Node, survivor.Plan, FreeFor(runner));
        runner.Adopt(survivor.Plan.Launch, survivor.Attempt);
        Log($"recovery: {attempt.Key} adopted");
    }

    private InFlight Track(JobNode job, AttemptPlan plan, FreeCapacity pool)
    {
        var capacity = pool.Capacity.AtOnce;
        // A job bigger than the runner would wait forever; it gets all of it instead.
        var reserved = new ResourceSize(Math.Clamp(job.Cpu, 0, capacity.Cpu), Math.Clamp(job.MemoryBytes, 0, capacity.MemoryBytes));
        pool.Cpu -= reserved.Cpu;
        pool.MemoryBytes -= reserved.MemoryBytes;
        var attempt = new InFlight(job, plan, reserved, pool);
        job.InFlight = attempt;
        _inFlight[attempt.Key] = attempt;
        return attempt;
    }

    /// <summary>Writes a round of transitions in one transaction, then lets them take effect in memory.</summary>
    private async Task CommitAsync(TransitionSet changes)
    {
        Enqueue(changes);
        await _ledger.WriteAsync(changes);
        foreach (var job in changes.Orphaned)
            if (job.InFlight is { } orphan) RunnerFor(job.Batch).Stop(orphan.Key, StopReasons.DependencyNeverSatisfied);
        foreach (var batch in changes.Completed)
        {
            _batches.Remove(batch.Id);
            Log($"batch {batch.Id}: {batch.FinalState}");
            RunnerFor(batch).BatchFinished(batch.Id);
        }
        if (changes.Completed.Count > 0) _signals.BatchEnded();
        else if (changes.Jobs.Count > 0) _signals.Changed();
    }

    /// <summary>
    /// Starts every Ready job that fits, first come first served, skipping (not waiting for) ones that
    /// do not fit yet. Their Running rows are committed with <paramref name="changes"/> before the
    /// runner is asked to start any of them; the runner starts them off this thread.
    /// </summary>
    private async Task ScheduleAsync(TransitionSet changes)
    {
        while (true)
        {
            Enqueue(changes);
            var launches = _stopping ? [] : await PickAndPlanAsync(changes);
            var more = changes.NewlyReady.Count > 0 || changes.MayStartAfterParents.Count > 0;
            await CommitAsync(changes);
            foreach (var (attempt, log) in launches) RunnerFor(attempt.Node.Batch).Start(attempt.Plan.Launch, log);
            if (!more || _stopping) return;
            changes = new TransitionSet();
        }
    }

    private void Enqueue(TransitionSet changes)
    {
        foreach (var job in changes.NewlyReady)
            if (job.State == JobState.Ready) _ready.AddLast(job);
        changes.NewlyReady.Clear();
        // Offered to the runner only if it can hold them; PickAndPlan checks their parents again when it gets to them.
        foreach (var job in changes.MayStartAfterParents)
            if (CanStartAfterParents(job)) _ready.AddLast(job);
        changes.MayStartAfterParents.Clear();
    }

    /// <summary>
    /// A Pending job the runner can be given now, to hold until its parents end: every unfinished
    /// parent is with the runner (started, its end not yet seen), none has failed unless it AlwaysRuns,
    /// and nothing must happen on this machine between its parents' ends and its start (inputs fetched
    /// from a bucket are fetched before it is submitted, so a staged batch's jobs wait for their parents).
    /// </summary>
    private bool CanStartAfterParents(JobNode job)
    {
        var batch = job.Batch;
        if (job.State != JobState.Pending || batch.CancelRequested || batch.Paths is null || batch.Staging is not null) return false;
        if (job.RemainingParents == 0 || (job.ParentFailed && !job.AlwaysRun)) return false;
        if (!RunnerFor(batch).StartsAfterParents) return false;
        foreach (var parentId in job.Parents)
        {
            var parent = batch.Job(parentId);
            if (parent.State.IsFinished()) continue;
            if (parent.State != JobState.Running || parent.InFlight is not { Released: false }) return false;
        }
        return true;
    }

    private static List<AttemptKey> UnfinishedParents(JobNode job) =>
        job.Parents.Select(job.Batch.Job).Where(parent => !parent.State.IsFinished()).Select(parent => parent.InFlight!.Key).ToList();

    private async Task<List<(InFlight Attempt, string Log)>> PickAndPlanAsync(TransitionSet changes)
    {
        var launches = new List<(InFlight, string)>();
        for (var node = _ready.First; node is not null;)
        {
            // Full runners end the scan, so a long queue costs nothing per event.
            if (_free.Count > 0 && _free.Values.All(free => free.Full)) break;
            var next = node.Next;
            var job = node.Value;
            var afterParents = job.State == JobState.Pending && CanStartAfterParents(job);
            if (job.State != JobState.Ready && !afterParents)
            {
                _ready.Remove(node);
                node = next;
                continue;
            }
            FreeCapacity pool;
            try
            {
                // The batch's spec says its dataset, which says its runner.
                await _planner.PathsAsync(job.Batch);
                pool = FreeFor(RunnerFor(job.Batch));
            }
            catch (Exception e) when (IsStartFailure(e))
            {
                _ready.Remove(node);
                JobGraph.Finish(job, JobState.Failed, "StartFailed: " + e.Message, null, changes);
                node = next;
                continue;
            }
            var capacity = pool.Capacity.AtOnce;
            var cpu = Math.Clamp(job.Cpu, 0, capacity.Cpu);
            var memory = Math.Clamp(job.MemoryBytes, 0, capacity.MemoryBytes);
            if (cpu <= pool.Cpu + 1e-9 && memory <= pool.MemoryBytes)
            {
                _ready.Remove(node);
                AttemptPlan plan;
                try
                {
                    plan = await _planner.PlanAsync(job, job.Attempt);
                }
                catch (Exception e) when (IsStartFailure(e))
                {
                    JobGraph.Finish(job, JobState.Failed, "StartFailed: " + e.Message, null, changes);
                    node = next;
                    continue;
                }
                if (afterParents)
                {
                    var parents = UnfinishedParents(job);
                    plan = plan with { Launch = plan.Launch with { After = parents, AfterAny = job.AlwaysRun } };
                    Log($"{job.Key}: handed to the runner after {string.Join(", ", parents.Select(p => "job " + p.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
                }
                var attempt = Track(job, plan, pool);
                var log = RunnerFor(job.Batch).ReserveLog(attempt.Key);
                job.State = JobState.Running;
                changes.Jobs.Add(new JobTransition(job.Batch.Id, job.JobId, JobState.Running, job.Attempt));
                changes.Attempts.Add(new AttemptChange(attempt.Key, Started: true, log));
                launches.Add((attempt, log));
                // Its children may go to the runner now too, to wait on it there.
                if (RunnerFor(job.Batch).StartsAfterParents)
                    foreach (var childId in job.Children)
                    if (job.Batch.Job(childId).State == JobState.Pending) changes.MayStartAfterParents.Add(job.Batch.Job(childId));
            }
            node = next;
        }
        return launches;
    }

    /// <summary>
    /// What planning or preparing an attempt can throw that fails that job at start, not the executor:
    /// anything, since what planning reads (the batch's rows, its run's log entry) may have been
    /// written past the store by whoever reaches a shared database, and one batch must not stop the
    /// executor for every other. Not a database outage (a job's spec read from PostgreSQL): that is no
    /// fault of the job, and it ends the loop as a failed ledger write does, so ExecutorHost waits it
    /// out and a fresh executor plans the job again. Nor the process's own failures.
    /// </summary>
    internal static bool IsStartFailure(Exception e) =>
        e is not (AnalysisRunnerException { ErrorId: "DatabaseUnavailable" } or OutOfMemoryException or InsufficientExecutionStackException);

    private void Log(string message) =>
        _log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {message}");

    public void Dispose()
    {
        _signals.Dispose();
        _runner.Dispose();
        _ledger.Dispose();
    }
}
