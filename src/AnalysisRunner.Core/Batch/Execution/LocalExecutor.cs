using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The scheduler of one runner home. A single loop owns the in-memory DAG and the database
/// connection; the socket, job exits and timers only post events to it, so nothing is shared
/// between threads and nothing sleeps. Each round of events becomes one transaction, written
/// before its effects (a child starts only after its parent's end is committed; a job's Running
/// row is committed before its bash starts).
/// </summary>
public sealed class LocalExecutor : IDisposable
{
    private abstract record ExecutorEvent;
    private sealed record WakeEvent : ExecutorEvent;
    private sealed record StopEvent : ExecutorEvent;
    private sealed record IdleEvent(int Generation) : ExecutorEvent;
    private sealed record JobEndedEvent(RunningJob Job, AttemptOutcome Outcome) : ExecutorEvent;

    private readonly RunnerHome _home;
    private readonly ExecutorOptions _options;
    private readonly TextWriter _log;
    private readonly SqliteJobLedger _ledger;
    private readonly Channel<ExecutorEvent> _events = Channel.CreateUnbounded<ExecutorEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, BatchGraph> _batches = [];
    private readonly LinkedList<JobNode> _ready = new();
    private readonly HashSet<RunningJob> _running = [];
    private readonly List<KeyValuePair<string, string>> _sharedEnvironment;
    private readonly JobSpawner _spawner = new();
    private readonly Dictionary<(long BatchId, int JobId), int> _adoptable = [];
    private readonly List<Task> _cleanups = [];
    private readonly HashSet<Socket> _followers = [];
    private readonly Func<IReadOnlyDictionary<string, string>, JobStaging>? _staging;
    private long _lastBatchId;
    private double _freeCpu;
    private long _freeMemory;
    private Socket? _listener;
    private int _idleGeneration;
    private bool _idleArmed;
    private bool _stopping;

    public LocalExecutor(RunnerHome home, ExecutorOptions options, TextWriter log)
    {
        _home = home;
        _options = options;
        _log = log;
        _ledger = new SqliteJobLedger(new RunnerDatabase(home));
        _freeCpu = options.Capacity.Cpu;
        _freeMemory = options.Capacity.MemoryBytes;
        _sharedEnvironment = SharedEnvironment(home);
        _staging = JobStaging.ForHome(home);
    }

    /// <summary>Recovers, then schedules until idle or told to stop. The caller holds the home's executor lock.</summary>
    public async Task<int> RunAsync()
    {
        Recover();
        var changes = new TransitionSet();
        LoadNewBatches(changes);
        Commit(changes);
        OpenSocket();
        Log($"executor {Environment.ProcessId} listening; capacity {_options.Capacity.Cpu} cpu, {_options.Capacity.MemoryBytes} bytes; {_batches.Count} batch(es) to finish");
        Schedule(new TransitionSet());

        while (true)
        {
            if (CheckIdle() && _stopping) break;
            var first = await _events.Reader.ReadAsync();
            var round = new List<ExecutorEvent> { first };
            while (_events.Reader.TryRead(out var more)) round.Add(more);

            changes = new TransitionSet();
            bool wake = false, stop = false, idleCheck = false;
            foreach (var e in round)
            {
                switch (e)
                {
                    case JobEndedEvent ended: Ended(ended.Job, ended.Outcome, changes); break;
                    case WakeEvent: wake = true; break;
                    case StopEvent: stop = true; break;
                    case IdleEvent idle when idle.Generation == _idleGeneration: idleCheck = true; break;
                }
            }
            if (wake && !_stopping)
            {
                LoadNewBatches(changes);
                CancelRequested(changes);
            }
            if (stop && !_stopping)
            {
                Log("stop requested");
                _stopping = true;
                foreach (var job in _running) job.Stop(RunningJob.Interrupted);
            }
            if (_stopping)
            {
                Commit(changes);
                if (_running.Count == 0) break;
                continue;
            }
            // Ends and the starts they allow land in one transaction, before any new shell starts.
            Schedule(changes);
            if (idleCheck && IsIdle() && !StillHasWork()) break;
        }

        CloseSocket();
        await Task.WhenAll(_cleanups);
        Log($"executor {Environment.ProcessId} exiting");
        return 0;
    }

    /// <summary>Before exiting for idleness: stop listening, then look once more, so a submit that raced the close is not lost.</summary>
    private bool StillHasWork()
    {
        CloseSocket();
        var changes = new TransitionSet();
        LoadNewBatches(changes);
        Commit(changes);
        if (_batches.Count == 0) return false;
        OpenSocket();
        Schedule(new TransitionSet());
        return true;
    }

    /// <summary>Arms the idle timer when nothing runs or waits; returns whether the loop is idle.</summary>
    private bool CheckIdle()
    {
        if (!IsIdle())
        {
            if (_idleArmed) { _idleArmed = false; _idleGeneration++; }
            return false;
        }
        FailUnschedulable();
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
        if (_running.Count > 0) return false;
        while (_ready.First is { } first && first.Value.State != JobState.Ready) _ready.RemoveFirst();
        return _ready.Count == 0;
    }

    /// <summary>Jobs that wait with nothing running and nothing ready can never run (a cycle the validator missed).</summary>
    private void FailUnschedulable()
    {
        if (_batches.Count == 0 || _stopping) return;
        var changes = new TransitionSet();
        foreach (var batch in _batches.Values.ToList())
            foreach (var job in batch.Jobs)
                if (job.State == JobState.Pending)
                    JobGraph.Finish(job, JobState.Failed, "Unschedulable", null, changes);
        Commit(changes);
    }

    private void Ended(RunningJob running, AttemptOutcome outcome, TransitionSet changes)
    {
        _running.Remove(running);
        _freeCpu += running.ReservedCpu;
        _freeMemory += running.ReservedMemory;
        var job = running.Node;
        job.Running = null;
        var exit = outcome.ExitCode;
        switch (outcome.StopReason)
        {
            case RunningJob.Cancelled:
                JobGraph.Finish(job, JobState.Cancelled, RunningJob.Cancelled, exit, changes);
                break;
            case RunningJob.Timeout:
                JobGraph.Finish(job, JobState.Failed, RunningJob.Timeout, exit, changes);
                break;
            case RunningJob.Interrupted when job.MayRetryAfterInterruption:
                JobGraph.Retry(job, RunningJob.Interrupted, exit, changes);
                break;
            case RunningJob.Interrupted:
                JobGraph.Finish(job, JobState.Failed, RunningJob.Interrupted, exit, changes);
                break;
            default:
                if (outcome.Error is not null)
                    JobGraph.Finish(job, JobState.Failed, outcome.Error, exit, changes);
                else if (exit == 0)
                    JobGraph.Finish(job, JobState.Succeeded, null, exit, changes);
                else if (job.Preemptible && job.AttemptsRemain)
                    JobGraph.Retry(job, "Preempted", exit, changes);
                else
                    JobGraph.Finish(job, JobState.Failed, null, exit, changes);
                break;
        }
    }

    private void CancelRequested(TransitionSet changes)
    {
        foreach (var batchId in _ledger.CancelRequests())
        {
            if (!_batches.TryGetValue(batchId, out var batch) || batch.CancelRequested) continue;
            Log($"batch {batchId}: cancel requested");
            JobGraph.Cancel(batch, changes);
            foreach (var job in batch.Jobs) job.Running?.Stop(RunningJob.Cancelled);
        }
    }

    private void LoadNewBatches(TransitionSet changes)
    {
        foreach (var row in _ledger.LoadBatches(_lastBatchId))
        {
            _lastBatchId = Math.Max(_lastBatchId, row.Id);
            if (_batches.ContainsKey(row.Id)) continue;
            var batch = JobGraph.Build(row);
            _batches[row.Id] = batch;
            JobGraph.Reconcile(batch, changes);
            AdoptSurvivors(batch, changes);
            if (batch.CancelRequested)
            {
                JobGraph.Cancel(batch, changes);
                foreach (var job in batch.Jobs) job.Running?.Stop(RunningJob.Cancelled);
            }
            Log($"batch {row.Id}: loaded {row.Jobs.Count} job(s)");
        }
    }

    /// <summary>Writes a round of transitions in one transaction, then lets them take effect in memory.</summary>
    private void Commit(TransitionSet changes)
    {
        Enqueue(changes);
        _ledger.Write(changes.Jobs, changes.Batches);
        foreach (var batch in changes.Completed)
        {
            _batches.Remove(batch.Id);
            Log($"batch {batch.Id}: {batch.FinalState}");
            RemoveWorkFolder(batch.Id);
        }
        if (changes.Completed.Count > 0) NotifyFollowers();
    }

    /// <summary>A finished batch's work folders are scratch (its resources live in the tmp bucket); removed off the loop.</summary>
    private void RemoveWorkFolder(long batchId)
    {
        var folder = Path.Combine(_home.WorkDirectory, batchId.ToString(CultureInfo.InvariantCulture));
        _cleanups.RemoveAll(t => t.IsCompleted);
        _cleanups.Add(Task.Run(() =>
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Log($"batch {batchId}: could not remove {folder}: {e.Message}"); }
        }));
    }

    /// <summary>
    /// Starts every Ready job that fits, first come first served, skipping (not waiting for) ones that
    /// do not fit yet. The Running rows are committed with <paramref name="changes"/> before any shell starts.
    /// </summary>
    private void Schedule(TransitionSet changes)
    {
        while (true)
        {
            Enqueue(changes);
            var launches = _stopping ? [] : PickAndPlan(changes);
            var more = changes.NewlyReady.Count > 0;
            Commit(changes);
            foreach (var running in launches)
            {
                _running.Add(running);
                running.Start(_spawner);
                _ = ReportEnd(running);
            }
            if (!more || _stopping) return;
            changes = new TransitionSet();
        }
    }

    private void Enqueue(TransitionSet changes)
    {
        foreach (var job in changes.NewlyReady)
            if (job.State == JobState.Ready) _ready.AddLast(job);
        changes.NewlyReady.Clear();
    }

    private List<RunningJob> PickAndPlan(TransitionSet changes)
    {
        var capacity = _options.Capacity;
        var launches = new List<RunningJob>();
        for (var node = _ready.First; node is not null;)
        {
            // A full machine ends the scan, so a long queue costs nothing per event.
            if (_freeCpu < 1e-9 || _freeMemory <= 0) break;
            var next = node.Next;
            var job = node.Value;
            // A job bigger than the machine would wait forever; it gets the whole machine instead.
            var cpu = Math.Clamp(job.Cpu, 0, capacity.Cpu);
            var memory = Math.Clamp(job.MemoryBytes, 0, capacity.MemoryBytes);
            if (job.State != JobState.Ready)
                _ready.Remove(node);
            else if (cpu <= _freeCpu + 1e-9 && memory <= _freeMemory)
            {
                _ready.Remove(node);
                LaunchPlan plan;
                try
                {
                    plan = Plan(job);
                }
                catch (Exception e) when (IsStartFailure(e))
                {
                    JobGraph.Finish(job, JobState.Failed, "StartFailed: " + e.Message, null, changes);
                    node = next;
                    continue;
                }
                _freeCpu -= cpu;
                _freeMemory -= memory;
                job.State = JobState.Running;
                changes.Jobs.Add(new JobTransition(job.Batch.Id, job.JobId, JobState.Running, Command: plan.Command));
                var running = new RunningJob(job, plan, _options.KillGrace) { ReservedCpu = cpu, ReservedMemory = memory };
                job.Running = running;
                launches.Add(running);
            }
            node = next;
        }
        return launches;
    }

    private async Task ReportEnd(RunningJob running)
    {
        var outcome = await running.Completion;
        _events.Writer.TryWrite(new JobEndedEvent(running, outcome));
    }

    /// <summary>What planning or preparing an attempt can throw that fails that job at start, not the executor.</summary>
    private static bool IsStartFailure(Exception e) =>
        e is AnalysisRunnerException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException;

    private LaunchPlan Plan(JobNode node, bool adopting = false)
    {
        var batch = node.Batch;
        if (batch.Paths is null)
        {
            var batchSpec = _ledger.LoadBatchSpec(batch.Id);
            batch.Paths = ResourcePaths.ForBatch(_home, batch.Id, batchSpec);
            batch.ConfigPath = batchSpec.ConfigPath;
            batch.Staging = _staging?.Invoke(batch.Paths.ScopeAttributes);
        }
        var spec = _ledger.LoadJobSpec(batch.Id, node.JobId);
        var groupsOf = GroupLookup(batch.Id, spec);
        var command = string.Join('\n', spec.Commands.Select(c => batch.Paths.ResolveCommand(c, groupsOf)));
        var outputs = Outputs(batch.Paths, spec, groupsOf);
        var reads = batch.Staging is null ? null : spec.Commands.Concat(spec.Outputs.Select(output => output.Resource))
            .SelectMany(ResourcePlaceholder.Find)
            .Where(use => use.JobIndex != spec.Index)
            .Select(use => batch.Paths.Resolve(use, groupsOf))
            .ToList();

        var logs = JobLogFiles.For(_home, batch.Id, node.JobId, node.Attempt);
        // The trap appends the attempt's status to the batch's exit ledger, so an executor that died
        // meanwhile can still tell this attempt finished (and how) instead of running it again.
        var script = $"""
            # AnalysisRunner batch {batch.Id} job {node.JobId} attempt {node.Attempt}
            trap {ShellQuoting.Quote(JobLogFiles.ExitRecordCommand(_home, batch.Id, node.JobId, node.Attempt))} EXIT
            set -e
            {command}

            """;
        var scriptPath = System.Text.Encoding.UTF8.GetByteCount(script) > JobLogFiles.LongestInlineScript
            ? JobLogFiles.ScriptPath(_home, batch.Id, node.JobId, node.Attempt) : null;
        // An adopted job's shell is already running: it needs no lookup, and a failed one must not cost it its attempt.
        var shellName = spec.Shell ?? JobSpawner.DefaultShell;
        var shell = adopting ? shellName : _spawner.FindShell(shellName)
            ?? throw new AnalysisRunnerException("ShellNotFound", ErrorKind.ObjectNotFound, shellName,
                $"Shell '{shellName}' was not found{(shellName.StartsWith('/') ? "" : " on the executor's PATH")}.");
        return new LaunchPlan(batch.Id, node.JobId, node.Attempt, command, shell, script, scriptPath,
            Path.Combine(_home.WorkDirectory, batch.Id.ToString(CultureInfo.InvariantCulture), node.JobId.ToString(CultureInfo.InvariantCulture)),
            batch.Paths.JobRoot(spec.Index), spec.Checkout, logs, JobEnvironment(batch, node, spec), outputs, spec.Timeout, batch.Staging, reads);
    }

    /// <summary>
    /// The executor's environment, then the job's own -Environment, then the runner's context last, so
    /// a job cannot claim another job's identity or config.
    /// </summary>
    private List<string> JobEnvironment(BatchGraph batch, JobNode node, JobSpec spec)
    {
        var runner = new List<KeyValuePair<string, string>>
        {
            new(RunnerHome.EnvironmentVariable, _home.Root),
            new("AR_BATCH_ID", batch.Id.ToString(CultureInfo.InvariantCulture)),
            new("AR_JOB_ID", node.JobId.ToString(CultureInfo.InvariantCulture)),
            new("AR_ATTEMPT", node.Attempt.ToString(CultureInfo.InvariantCulture)),
        };
        if (batch.ConfigPath is not null) runner.Add(new("CPG_CONFIG_PATH", batch.ConfigPath));
        // The run's capability, for the jobs of a batch the audit log says belongs to it (ResourcePaths.ForBatch verified that).
        if (batch.Paths?.Scope?.Run is { } run) runner.Add(new(Runs.RunTokens.Variable, Runs.RunTokens.Issue(_home, run.ArGuid)));
        // On a cloud backend a job holds its own scope's key and no other (never the runner's).
        if (batch.Staging?.Credentials is { } key) runner.Add(new(JobStaging.CredentialsVariable, key));
        var cloud = batch.Staging is not null;

        bool Reserved(string name) =>
            name == "OLDPWD" || (cloud && name == JobStaging.CredentialsVariable) || runner.Exists(pair => pair.Key == name);
        var environment = new List<string>(_sharedEnvironment.Count + spec.Environment.Count + runner.Count);
        foreach (var (name, line) in _sharedEnvironment)
            if (!Reserved(name) && !spec.Environment.ContainsKey(name)) environment.Add(line);
        foreach (var (name, value) in spec.Environment)
            if (!Reserved(name)) environment.Add(name + "=" + value);
        foreach (var (name, value) in runner) environment.Add(name + "=" + value);
        return environment;
    }

    private Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GroupLookup(long batchId, JobSpec spec)
    {
        var cache = new Dictionary<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> { [spec.Index] = spec.ResourceGroups };
        return index =>
        {
            if (!cache.TryGetValue(index, out var groups))
                cache[index] = groups = _ledger.LoadJobSpec(batchId, index + 1).ResourceGroups;
            return groups;
        };
    }

    private List<(string Source, string Destination)> Outputs(ResourcePaths paths, JobSpec spec,
        Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> groupsOf) =>
        spec.Outputs.Select(output =>
        {
            var use = ResourcePlaceholder.Find(output.Resource).SingleOrDefault()
                ?? throw new BatchValidationException("InvalidOutputResource", ErrorKind.InvalidArgument, output.Resource,
                    $"Output '{output.Resource}' is not one resource placeholder.");
            return (paths.Resolve(use, groupsOf), paths.OutputPath(output.Destination));
        }).ToList();

    /// <summary>
    /// Jobs a dead executor left Running. One whose shell still runs is adopted: it finishes its
    /// attempt and its result is kept (AdoptSurvivors), so a kill -9 of the executor runs nothing twice.
    /// For the rest, whatever is left of them is killed; a recorded exit status is kept (the job
    /// finished, the executor died before writing it down), otherwise the attempt was cut off and is
    /// retried as Interrupted.
    /// </summary>
    private void Recover()
    {
        var running = _ledger.RunningJobs();
        if (running.Count == 0) return;
        var processes = OrphanJobs.Find(_home, running.Select(r => (r.BatchId, r.JobId)).ToHashSet());
        var transitions = new List<JobTransition>();
        var stragglers = new List<JobProcess>();
        foreach (var row in running)
        {
            var mine = processes.Where(p => p.BatchId == row.BatchId && p.JobId == row.JobId).ToList();
            var shell = mine.FirstOrDefault(p => p.Pid == p.Session && p.Attempt == row.Attempt);
            if (shell is not null)
            {
                _adoptable[(row.BatchId, row.JobId)] = shell.Pid;
                Log($"recovery: batch {row.BatchId} job {row.JobId} attempt {row.Attempt} still runs as {shell.Pid}; adopted");
                continue;
            }
            stragglers.AddRange(mine);
        }
        OrphanJobs.Kill(stragglers, _log);
        // Each batch's exit ledger is read once, however many of its jobs were running.
        var ledgers = new Dictionary<long, Dictionary<(int JobId, int Attempt), int>>();
        foreach (var row in running)
        {
            if (_adoptable.ContainsKey((row.BatchId, row.JobId))) continue;
            if (!ledgers.TryGetValue(row.BatchId, out var recorded))
                ledgers[row.BatchId] = recorded = JobLogFiles.ReadExitStatuses(_home, row.BatchId);
            var exit = JobLogFiles.ExitStatus(recorded, _home, row.BatchId, row.JobId, row.Attempt);
            var attemptsRemain = row.Attempt < row.MaxAttempts;
            JobTransition transition = exit switch
            {
                0 => RecoverSucceeded(row),
                null when JobNode.MayRetryInterrupted(row.Attempt, row.MaxAttempts) =>
                    new(row.BatchId, row.JobId, JobState.Ready, RunningJob.Interrupted, Attempt: row.Attempt + 1),
                null => new(row.BatchId, row.JobId, JobState.Failed, RunningJob.Interrupted),
                _ when row.Preemptible && attemptsRemain => new(row.BatchId, row.JobId, JobState.Ready, "Preempted", exit, Attempt: row.Attempt + 1),
                _ => new(row.BatchId, row.JobId, JobState.Failed, null, exit),
            };
            transitions.Add(transition);
            Log($"recovery: batch {row.BatchId} job {row.JobId} attempt {row.Attempt} → {transition.State} ({transition.Reason ?? "exit " + exit})");
        }
        _ledger.Write(transitions, []);
    }

    /// <summary>Watches the adopted shells of a freshly loaded batch as if this executor had started them.</summary>
    private void AdoptSurvivors(BatchGraph batch, TransitionSet changes)
    {
        if (_adoptable.Count == 0) return;
        foreach (var job in batch.Jobs)
        {
            if (job.State != JobState.Running || !_adoptable.Remove((batch.Id, job.JobId), out var pid)) continue;
            LaunchPlan plan;
            try { plan = Plan(job, adopting: true); }
            catch (Exception e) when (IsStartFailure(e))
            {
                OrphanJobs.Kill([new JobProcess(batch.Id, job.JobId, job.Attempt, pid, pid)], _log);
                JobGraph.Finish(job, JobState.Failed, "StartFailed: " + e.Message, null, changes);
                continue;
            }
            var cpu = Math.Clamp(job.Cpu, 0, _options.Capacity.Cpu);
            var memory = Math.Clamp(job.MemoryBytes, 0, _options.Capacity.MemoryBytes);
            _freeCpu -= cpu;
            _freeMemory -= memory;
            var running = new RunningJob(job, plan, _options.KillGrace) { ReservedCpu = cpu, ReservedMemory = memory };
            job.Running = running;
            _running.Add(running);
            var (batchId, jobId, attempt) = (batch.Id, job.JobId, job.Attempt);
            running.Adopt(pid, () => JobLogFiles.ReadExitStatus(_home, batchId, jobId, attempt));
            _ = ReportEnd(running);
        }
    }

    private JobTransition RecoverSucceeded(RunningRow row)
    {
        string? error;
        try
        {
            var batchSpec = _ledger.LoadBatchSpec(row.BatchId);
            var spec = _ledger.LoadJobSpec(row.BatchId, row.JobId);
            var paths = ResourcePaths.ForBatch(_home, row.BatchId, batchSpec);
            var outputs = Outputs(paths, spec, GroupLookup(row.BatchId, spec));
            error = paths.CheckCopies(outputs, paths.JobRoot(spec.Index)) ?? RunningJob.CopyOutputs(outputs);
        }
        catch (AnalysisRunnerException e) { error = "OutputCopyFailed: " + e.Message; }
        return error is null
            ? new(row.BatchId, row.JobId, JobState.Succeeded, null, 0)
            : new(row.BatchId, row.JobId, JobState.Failed, error, 0);
    }

    /// <summary>Name → "name=value" lines of what every job inherits, made once rather than per job.</summary>
    private static List<KeyValuePair<string, string>> SharedEnvironment(RunnerHome home)
    {
        // The executor's own environment (what Process.Start used to pass on), less any job identity it was started with.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        foreach (var name in new[] { "AR_BATCH_ID", "AR_JOB_ID", "AR_ATTEMPT" }) environment.Remove(name);
        var path = Environment.GetEnvironmentVariable("PATH");
        environment["PATH"] = string.IsNullOrEmpty(path) ? home.BinDirectory : home.BinDirectory + ":" + path;
        // The module folder is <parent>/AnalysisRunner/, beside this executor, so jobs can Import-Module AnalysisRunner.
        var modules = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!;
        var modulePath = Environment.GetEnvironmentVariable("PSModulePath");
        environment["PSModulePath"] = string.IsNullOrEmpty(modulePath) ? modules : modules + ":" + modulePath;
        return environment.Select(pair => KeyValuePair.Create(pair.Key, pair.Key + "=" + pair.Value)).ToList();
    }

    private void OpenSocket()
    {
        if (_listener is not null) return;
        var listener = ExecutorSocket.Listen(ExecutorSocket.PathFor(_home));
        _listener = listener;
        _ = Accept(listener);
    }

    private void CloseSocket()
    {
        if (_listener is null) return;
        _listener.Dispose();
        _listener = null;
        // Followers see the connection close and go back to reading the database (or to the next executor).
        lock (_followers)
        {
            foreach (var follower in _followers) follower.Dispose();
            _followers.Clear();
        }
        try { File.Delete(ExecutorSocket.PathFor(_home)); } catch (IOException) { }
    }

    private async Task Accept(Socket listener)
    {
        while (true)
        {
            Socket connection;
            try { connection = await listener.AcceptAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            _ = Read(connection);
        }
    }

    private async Task Read(Socket connection)
    {
        using var connectionLifetime = connection;
        // A client that only wakes us has 10 s to say so; one that follows batch ends stays as long as it likes.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64];
        var following = false;
        try
        {
            int count;
            while ((count = await connection.ReceiveAsync(buffer, SocketFlags.None, following ? CancellationToken.None : timeout.Token)) > 0)
                for (var i = 0; i < count; i++)
                {
                    if (buffer[i] == ExecutorSocket.Follow && !following)
                    {
                        following = true;
                        // Acknowledged before it joins, so 'A' always comes before the first 'E'. One
                        // byte into an empty buffer does not block; later sends never do.
                        connection.Blocking = false;
                        lock (_followers)
                        {
                            connection.Send([ExecutorSocket.Following], SocketFlags.None, out _);
                            _followers.Add(connection);
                        }
                    }
                    else
                        _events.Writer.TryWrite(buffer[i] == ExecutorSocket.Stop ? new StopEvent() : new WakeEvent());
                }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            lock (_followers) _followers.Remove(connection);
        }
    }

    /// <summary>Tells every client waiting on a batch that one has ended, so it reads the database now rather than at its next poll.</summary>
    private void NotifyFollowers()
    {
        lock (_followers)
            foreach (var follower in _followers)
            {
                // Never block the scheduler on a slow client: a full buffer already holds an unread 'E'.
                try { follower.Send([ExecutorSocket.BatchEnded], SocketFlags.None, out _); }
                catch (SocketException) { }
            }
    }

    private void Log(string message) =>
        _log.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {message}");

    public void Dispose()
    {
        CloseSocket();
        _ledger.Dispose();
    }
}
