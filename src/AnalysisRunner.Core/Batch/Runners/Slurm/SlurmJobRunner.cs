using System.Diagnostics;
using System.Globalization;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// Jobs as Slurm jobs. The scheduler (JobGraph) still decides what runs when: each attempt it starts
/// is one sbatch, submitted off the scheduler's thread, several at once. A job may be started as soon
/// as its parents are submitted (StartsAfterParents): its sbatch waits for theirs to answer and carries
/// --dependency=afterok (afterany for AlwaysRun) on their ids with --kill-on-invalid-dep, so Slurm
/// starts it when they end without a round trip through the executor, and cancels it if they fail.
/// One watcher thread asks squeue about all of the runner's jobs each poll and reports ends; scancel
/// stops them. Every Slurm job carries a name unique to this home, batch, job and attempt, and its id
/// is appended to the batch's slurm-ledger as soon as sbatch answers, so a restarted runner finds
/// every job it submitted (squeue by name, sacct by id) and never submits one twice.
/// </summary>
internal sealed class SlurmJobRunner : IJobRunner
{
    /// <summary>Polls a job may be missing from squeue before sacct is asked, and before it counts as lost.</summary>
    private const int MissesBeforeSacct = 2;
    private const int MissesBeforeLost = 10;

    private readonly RunnerHome _home;
    private readonly SlurmSettings _settings;
    private readonly ISlurmCommands _slurm;
    private readonly IAttemptSink _sink;
    private readonly TextWriter _log;
    private readonly InheritedEnvironment _inherited;
    private readonly string _prefix;
    private readonly Lock _gate = new();
    private readonly HashSet<AttemptKey> _reserved = [];
    private readonly Dictionary<AttemptKey, SlurmAttempt> _attempts = [];
    private readonly Dictionary<AttemptKey, string> _survivors = [];

    /// <summary>Every attempt started or adopted here, by key, until its batch finishes: what a child's --dependency waits on.</summary>
    private readonly Dictionary<AttemptKey, Task<string?>> _slurmIds = [];
    private readonly List<string> _toCancel = [];
    private readonly List<Task> _submissions = [];
    private readonly SemaphoreSlim _submitSlots;
    private readonly AutoResetEvent _wake = new(false);
    private readonly CancellationTokenSource _closing = new();
    private readonly Thread _watcher;

    public SlurmJobRunner(RunnerHome home, RunnerCapacity capacity, SlurmSettings settings, ISlurmCommands slurm, IAttemptSink sink, TextWriter log)
    {
        _home = home;
        Capacity = capacity;
        _settings = settings;
        _slurm = slurm;
        _sink = sink;
        _log = log;
        _inherited = new InheritedEnvironment(home);
        _prefix = SlurmLayout.NamePrefix(home);
        _submitSlots = new SemaphoreSlim(settings.SubmitParallel);
        _watcher = new Thread(Watch) { IsBackground = true, Name = "slurm watcher" };
        _watcher.Start();
    }

    public RunnerCapacity Capacity { get; }

    public bool StartsAfterParents => _settings.Dependencies;

    public string ReserveLog(AttemptKey key)
    {
        lock (_gate) _reserved.Add(key);
        return SlurmLayout.LogStem(_home, key);
    }

    public void Start(AttemptLaunch launch, string log)
    {
        var attempt = new SlurmAttempt(launch.Key, log, launch.Timeout) { AfterParents = launch.After.Count > 0 };
        List<Task<string?>> parents;
        lock (_gate)
        {
            if (!_reserved.Remove(launch.Key)) throw new InvalidOperationException($"{launch.Key} has no log reserved.");
            _attempts[launch.Key] = attempt;
            _slurmIds[launch.Key] = attempt.Submitted.Task;
            // A parent this runner never had cannot be depended on: the job then waits for its parents in the scheduler.
            parents = launch.After.Select(parent => _slurmIds.GetValueOrDefault(parent) ?? Task.FromResult<string?>(null)).ToList();
        }
        var submission = Task.Run(async () =>
        {
            // Parents' sbatch first (their ids are the dependency), and without holding a submit slot meanwhile.
            var parentIds = await Task.WhenAll(parents).ConfigureAwait(false);
            await _submitSlots.WaitAsync().ConfigureAwait(false);
            try { Submit(launch, attempt, parentIds); }
            finally { _submitSlots.Release(); }
        });
        lock (_gate)
        {
            _submissions.RemoveAll(task => task.IsCompleted);
            _submissions.Add(submission);
        }
    }

    public void Stop(AttemptKey key, string reason)
    {
        string? id;
        lock (_gate)
        {
            if (!_attempts.TryGetValue(key, out var attempt) || attempt.Ended) return;
            attempt.StopReason ??= reason;
            id = attempt.SlurmId;
            if (id is not null) _toCancel.Add(id);
        }
        // Not submitted yet: Submit sees the reason and never submits (or cancels what it just submitted).
        if (id is not null) _wake.Set();
    }

    public IReadOnlyList<RecoveredAttempt> Recover(IReadOnlyDictionary<long, string?> batches)
    {
        var batchIds = batches.Keys;
        WaitForOrphanSubmissions();
        var queued = new Dictionary<AttemptKey, SlurmJobStatus>();
        var leftovers = new List<string>();
        foreach (var status in _slurm.Queue(_prefix))
        {
            if (SlurmLayout.ParseJobName(_prefix, status.Name) is not { } key) continue;
            // Two Slurm jobs for one attempt would be a bug; the live one counts, and any other live one goes.
            if (queued.TryGetValue(key, out var other) && !SlurmJobStates.HasEnded(other.State))
            {
                if (!SlurmJobStates.HasEnded(status.State)) leftovers.Add(status.JobId);
                continue;
            }
            queued[key] = status;
        }
        var wanted = batchIds.ToHashSet();
        var recovered = new List<RecoveredAttempt>();
        foreach (var batchId in batchIds)
        {
            var ledger = SlurmLedger.Read(_home, batchId);
            var attempts = ledger.Keys.Select(a => new AttemptKey(batchId, a.JobId, a.Attempt))
                .Concat(queued.Keys.Where(k => k.BatchId == batchId)).Distinct()
                .OrderBy(k => k.JobId).ThenBy(k => k.Attempt).ToList();
            var latest = attempts.GroupBy(k => k.JobId).ToDictionary(g => g.Key, g => g.Max(k => k.Attempt));
            foreach (var key in attempts)
            {
                var stem = SlurmLayout.LogStem(_home, key);
                var status = queued.GetValueOrDefault(key)
                    ?? (ledger.TryGetValue((key.JobId, key.Attempt), out var id) ? _slurm.Completed(id) : null);
                if (status is null)
                {
                    recovered.Add(new RecoveredAttempt(key, StillRunning: false, null, stem));
                    _log.WriteLine($"recovery: {key}: Slurm no longer knows it; it counts as interrupted");
                }
                else if (!SlurmJobStates.HasEnded(status.State))
                {
                    if (key.Attempt < latest[key.JobId])
                    {
                        // Only a job's latest attempt is adopted; an older one still queued is not wanted.
                        leftovers.Add(status.JobId);
                        recovered.Add(new RecoveredAttempt(key, StillRunning: false, null, stem));
                        continue;
                    }
                    lock (_gate) _survivors[key] = status.JobId;
                    recovered.Add(new RecoveredAttempt(key, StillRunning: true, null, stem));
                    _log.WriteLine($"recovery: {key} is Slurm job {status.JobId}, {status.State}");
                }
                else
                {
                    var (exitCode, stop, error) = SlurmJobStates.Outcome(status, null);
                    // What a recovered attempt can carry is its exit code: a stop or an error is a failure unless it interrupted.
                    int? code = stop == StopReasons.Interrupted ? null
                        : stop is not null || error is not null ? (exitCode is null or 0 ? 1 : exitCode) : exitCode;
                    recovered.Add(new RecoveredAttempt(key, StillRunning: false, code, stem));
                }
            }
        }
        // Jobs of batches the store has finished, or attempts superseded, are not wanted by anyone.
        leftovers.AddRange(queued.Where(pair => !wanted.Contains(pair.Key.BatchId) && !SlurmJobStates.HasEnded(pair.Value.State)).Select(pair => pair.Value.JobId));
        if (leftovers.Count > 0)
        {
            _log.WriteLine($"recovery: cancelling Slurm job(s) no batch wants: {string.Join(',', leftovers)}");
            try { _slurm.Cancel(leftovers); }
            catch (SlurmCommandException e) { _log.WriteLine($"recovery: {e.Message}"); }
        }
        return recovered;
    }

    public void Adopt(AttemptLaunch launch, RecoveredAttempt attempt)
    {
        lock (_gate)
        {
            if (!_survivors.Remove(attempt.Key, out var id))
                throw new InvalidOperationException($"{attempt.Key} was not found in Slurm at recovery.");
            var adopted = new SlurmAttempt(attempt.Key, attempt.Log ?? SlurmLayout.LogStem(_home, attempt.Key), launch.Timeout) { SlurmId = id };
            adopted.Submitted.SetResult(id);
            _attempts[attempt.Key] = adopted;
            _slurmIds[attempt.Key] = adopted.Submitted.Task;
        }
        _wake.Set();
    }

    public void BatchFinished(long batchId)
    {
        lock (_gate)
            foreach (var key in _slurmIds.Keys.Where(key => key.BatchId == batchId).ToList()) _slurmIds.Remove(key);
        var folder = SlurmLayout.SharedWork(_home, batchId);
        _ = Task.Run(() =>
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _log.WriteLine($"batch {batchId}: could not remove {folder}: {e.Message}"); }
        });
    }

    /// <summary>
    /// Prepares the attempt's folders and script, then sbatch (with --dependency on <paramref name="parentIds"/>);
    /// a refusal fails this attempt with Slurm's words, never the executor. A parent that never reached
    /// Slurm, or one Slurm no longer accepts as a dependency, means this attempt can never start.
    /// </summary>
    private void Submit(AttemptLaunch launch, SlurmAttempt attempt, string?[] parentIds)
    {
        try
        {
            lock (_gate)
                if (attempt.StopReason is not null || parentIds.Any(id => id is null))
                {
                    End(attempt, null, attempt.StopReason ?? StopReasons.DependencyNeverSatisfied, null);
                    return;
                }
            var key = launch.Key;
            Directory.CreateDirectory(SlurmLayout.BatchLogs(_home, key.BatchId));
            var work = Prepare(launch, attempt);
            var shell = FindShell(launch.Shell)
                ?? throw new AnalysisRunnerException("ShellNotFound", ErrorKind.ObjectNotFound, launch.Shell,
                    $"Shell '{launch.Shell}' was not found{(launch.Shell!.StartsWith('/') ? "" : " on the executor's PATH")}.");
            var scriptPath = SlurmLayout.Script(_home, key);
            WritePrivate(scriptPath, SlurmJobScript.For(key, shell, launch.Environment, launch.Command));
            var jobName = SlurmLayout.JobName(_prefix, key, launch.JobName);
            var options = SlurmJobScript.Options(launch, jobName,
                SlurmJobScript.Comment(key, launch.ArGuid), attempt.LogStem, work, _settings.AccountFor(launch.Dataset), _settings.Partition);
            options.AddRange(SlurmJobScript.Dependency(parentIds!, launch.AfterAny));
            var id = SubmitRetrying(new SbatchRequest(options, scriptPath, SbatchEnvironment(launch)), jobName, attempt);
            SlurmLedger.Append(_home, key, id);
            lock (_gate)
            {
                attempt.SlurmId = id;
                if (attempt.StopReason is not null) _toCancel.Add(id);
            }
            attempt.Submitted.TrySetResult(id);
            _wake.Set();
        }
        catch (SlurmCommandException e) when (attempt.AfterParents && e.ErrorId == "SlurmSubmitRefused" && e.Message.Contains("dependency", StringComparison.OrdinalIgnoreCase))
        {
            // "Job dependency problem": a parent ended and Slurm has forgotten it; the scheduler decides again once it sees that end.
            _log.WriteLine($"slurm: {launch.Key}: {e.Message}");
            string? stop;
            lock (_gate) stop = attempt.StopReason;
            End(attempt, null, stop ?? StopReasons.DependencyNeverSatisfied, null);
        }
        catch (Exception e)
        {
            var why = e is SlurmCommandException refused ? $"{refused.ErrorId}: {refused.Message}" : "StartFailed: " + e.Message;
            TryAppend(SlurmLayout.Output(attempt.LogStem, LogStream.Stderr), why);
            string? stop;
            lock (_gate) stop = attempt.StopReason;
            End(attempt, null, stop, why);
        }
    }

    /// <summary>
    /// sbatch, again after a bounded back-off while Slurm cannot be reached, never after a refusal. A
    /// timed-out sbatch may still have queued the job, so before each new try the job is looked for
    /// by its name (unique to the attempt): found, it is that job, not a second one.
    /// </summary>
    private string SubmitRetrying(SbatchRequest request, string jobName, SlurmAttempt attempt)
    {
        for (var retry = 1; ; retry++)
        {
            try
            {
                return _slurm.Submit(request);
            }
            catch (SlurmCommandException e) when (e.ErrorId == SlurmTransientErrors.ErrorId && retry <= _settings.SubmitRetries)
            {
                _log.WriteLine($"slurm: {attempt.Key}: {e.Message}; trying again ({retry} of {_settings.SubmitRetries})");
                while (true)
                {
                    WaitBeforeRetry(retry, attempt, e);
                    try
                    {
                        if (_slurm.Queue(_prefix).FirstOrDefault(job => job.Name == jobName) is { } queued)
                        {
                            _log.WriteLine($"slurm: {attempt.Key}: the sbatch that failed did queue Slurm job {queued.JobId}");
                            return queued.JobId;
                        }
                        break;
                    }
                    // squeue cannot reach the controller either: wait again rather than submit blind.
                    catch (SlurmCommandException) when (retry < _settings.SubmitRetries)
                    {
                        retry++;
                    }
                }
            }
        }
    }

    /// <summary>The back-off before try <paramref name="retry"/>; a stop asked for meanwhile, or the runner closing, ends the attempt with Slurm's error.</summary>
    private void WaitBeforeRetry(int retry, SlurmAttempt attempt, SlurmCommandException error)
    {
        if (_closing.Token.WaitHandle.WaitOne(SlurmTransientErrors.Delay(_settings.SubmitRetryDelay, retry))) throw error;
        lock (_gate)
            if (attempt.StopReason is not null) throw error;
    }

    /// <summary>
    /// What sbatch itself runs with (and, with --export=ALL, what the job inherits): the executor's
    /// environment as a local job gets it, less every SBATCH_* and SLURM_* variable, which sbatch would
    /// read as options or as the executor's own allocation.
    /// </summary>
    private List<string> SbatchEnvironment(AttemptLaunch launch) =>
        _inherited.For(launch with { Environment = [] })
            .Where(line => !line.StartsWith("SBATCH_", StringComparison.Ordinal) && !line.StartsWith("SLURM_", StringComparison.Ordinal))
            .ToList();

    /// <summary>The work folder (fresh for a private one), the resources' folders, inputs fetched, a driver's checkout; returns the job's cwd.</summary>
    private string Prepare(AttemptLaunch launch, SlurmAttempt attempt)
    {
        var key = launch.Key;
        var work = launch.Work == WorkFolder.Private ? SlurmLayout.PrivateWork(_home, key.BatchId, key.JobId) : SlurmLayout.SharedWork(_home, key.BatchId);
        if (launch.Work == WorkFolder.Private && key.Attempt > 1 && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        foreach (var folder in launch.ResourceFolders) Directory.CreateDirectory(folder);
        launch.Staging?.Download(launch.Reads);
        if (launch.Checkout is not { } checkout) return work;
        var output = SlurmLayout.Output(attempt.LogStem, LogStream.Stdout);
        var clock = Stopwatch.StartNew();
        var steps = new DriverCheckout.Steps(
            Started: step => { clock.Restart(); TryAppend(output, step); },
            Done: step => TryAppend(output, $"{step}: done in {clock.Elapsed.TotalSeconds:0.000} s"));
        return DriverCheckout.Checkout(checkout, work, steps);
    }

    private void Watch()
    {
        var signals = new WaitHandle[] { _wake, _closing.Token.WaitHandle };
        while (!_closing.IsCancellationRequested)
        {
            WaitHandle.WaitAny(signals, _settings.PollInterval);
            if (_closing.IsCancellationRequested) break;
            try
            {
                FlushCancels();
                Poll();
            }
            catch (Exception e) when (e is SlurmCommandException or IOException)
            {
                _log.WriteLine($"slurm: {e.Message}");
            }
        }
    }

    private void FlushCancels()
    {
        List<string> ids;
        lock (_gate)
        {
            if (_toCancel.Count == 0) return;
            ids = [.. _toCancel];
            _toCancel.Clear();
        }
        _slurm.Cancel(ids);
    }

    /// <summary>One squeue for every job the runner watches; an ended one is reported, one that started running starts its -Timeout.</summary>
    private void Poll()
    {
        List<SlurmAttempt> watched;
        // Parents before children (a job's parents have lower ids): a child's end is never read before the end that released it.
        lock (_gate) watched = _attempts.Values.Where(a => a.SlurmId is not null && !a.Ended).OrderBy(a => a.Key.BatchId).ThenBy(a => a.Key.JobId).ToList();
        if (watched.Count == 0) return;
        var queue = _slurm.Queue(_prefix).GroupBy(s => s.JobId).ToDictionary(g => g.Key, g => g.Last());
        foreach (var attempt in watched)
        {
            var id = attempt.SlurmId!;
            if (queue.TryGetValue(id, out var status))
            {
                attempt.Misses = 0;
                if (SlurmJobStates.HasEnded(status.State)) Conclude(attempt, status);
                else if (SlurmJobStates.IsRunning(status.State))
                {
                    attempt.SeenRunning = true;
                    StartTimer(attempt);
                }
                continue;
            }
            if (++attempt.Misses < MissesBeforeSacct) continue;
            if (_slurm.Completed(id) is { } done && SlurmJobStates.HasEnded(done.State)) Conclude(attempt, done);
            else if (attempt.Misses >= MissesBeforeLost)
            {
                _log.WriteLine($"slurm: {attempt.Key}: Slurm job {id} is neither queued nor in sacct; it counts as interrupted");
                string? stop;
                lock (_gate) stop = attempt.StopReason;
                End(attempt, null, stop ?? StopReasons.Interrupted, null);
            }
        }
    }

    /// <summary>Slurm counts time limits in minutes (its --time is only a backstop): the -Timeout runs from when Slurm starts the job.</summary>
    private void StartTimer(SlurmAttempt attempt)
    {
        if (attempt.Timeout is not { } timeout || attempt.TimerStarted) return;
        attempt.TimerStarted = true;
        _ = Task.Delay(timeout, _closing.Token).ContinueWith(task =>
        {
            if (!task.IsCanceled) Stop(attempt.Key, StopReasons.Timeout);
        }, TaskScheduler.Default);
    }

    private void Conclude(SlurmAttempt attempt, SlurmJobStatus status)
    {
        string? requested;
        lock (_gate) requested = attempt.StopReason;
        if (requested is null && attempt.AfterParents && SlurmJobStates.NeverSatisfied(status, attempt.SeenRunning))
        {
            End(attempt, null, StopReasons.DependencyNeverSatisfied, null);
            return;
        }
        var (exitCode, stop, error) = SlurmJobStates.Outcome(status, requested);
        End(attempt, exitCode, stop, error, Measured(attempt.SlurmId!));
    }

    /// <summary>What accounting says the job used; a cluster without accounting (or a failing sacct) leaves it unmeasured.</summary>
    private ProcessUsage? Measured(string slurmId)
    {
        try { return _slurm.Usage(slurmId); }
        catch (Exception e) when (e is SlurmCommandException or IOException or System.ComponentModel.Win32Exception)
        {
            _log.WriteLine($"slurm: job {slurmId}: no usage from sacct: {e.Message}");
            return null;
        }
    }

    private void End(SlurmAttempt attempt, int? exitCode, string? stopReason, string? error, ProcessUsage? usage = null)
    {
        lock (_gate)
        {
            if (attempt.Ended) return;
            attempt.Ended = true;
            _attempts.Remove(attempt.Key);
        }
        // Children still waiting for this one's sbatch learn it never came.
        attempt.Submitted.TrySetResult(null);
        _sink.Ended(new AttemptEnded(attempt.Key, exitCode, stopReason, error, attempt.LogStem, usage));
    }

    /// <summary>
    /// An executor killed while sbatch was running leaves that sbatch running: it may still submit. Its
    /// job is looked for only once it has answered, so it is found, not submitted again.
    /// </summary>
    private void WaitForOrphanSubmissions()
    {
        foreach (var pid in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName))
        {
            if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
            string[] argv;
            try { argv = File.ReadAllText($"/proc/{id}/cmdline").Split('\0'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (argv.Length == 0 || Path.GetFileName(argv[0]) != "sbatch" || !argv.Any(a => a.StartsWith("--job-name=" + _prefix, StringComparison.Ordinal))) continue;
            _log.WriteLine($"recovery: waiting for sbatch {id}, started by the previous executor");
            using var handle = ProcessHandle.TryOpen(id);
            handle?.WaitForExit(TimeSpan.FromMinutes(1));
        }
    }

    private static string? FindShell(string? shell)
    {
        shell ??= "bash";
        if (shell.StartsWith('/')) return File.Exists(shell) ? shell : null;
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(folder, shell);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>The script holds the run's capability: readable by the user the jobs run as, no one else.</summary>
    private static void WritePrivate(string path, string text)
    {
        using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(file);
        writer.Write(text);
    }

    private static void TryAppend(string path, string line)
    {
        try { File.AppendAllText(path, line + "\n"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        if (_closing.IsCancellationRequested) return;
        // An sbatch under way finishes and is recorded in the ledger before the runner goes.
        Task[] submissions;
        lock (_gate) submissions = [.. _submissions];
        Task.WaitAll(submissions, TimeSpan.FromMinutes(1));
        _closing.Cancel();
        _watcher.Join();
        try { FlushCancels(); }
        catch (SlurmCommandException e) { _log.WriteLine($"slurm: {e.Message}"); }
    }
}
