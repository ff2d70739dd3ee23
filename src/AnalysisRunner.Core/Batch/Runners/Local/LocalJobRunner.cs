using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// Jobs as local processes: each attempt is a shell in its own session, started off the scheduler's
/// thread by a launcher, its stdout and stderr appended to its batch's log lanes (BatchFiles), its end
/// reported by the reaper. What it records itself — the ledger of starts and exit statuses, the
/// processes that carry a job's identity — is what it recovers from after the executor dies.
/// A per-batch sandboxed launcher (bubblewrap) would replace JobSpawner's spawn for a batch's jobs
/// (one launcher per batch, attempts sent to it, their statuses read back) and keep the rest.
/// </summary>
internal sealed class LocalJobRunner : IJobRunner
{
    private readonly RunnerHome _home;
    private readonly ExecutorOptions _options;
    private readonly IAttemptSink _sink;
    private readonly TextWriter _log;
    private readonly JobSpawner _spawner;
    private readonly InheritedEnvironment _inherited;
    private readonly Dictionary<long, BatchFiles> _batches = [];
    private readonly Dictionary<AttemptKey, LaneLog> _reserved = [];
    private readonly Dictionary<AttemptKey, LocalAttempt> _attempts = [];
    private readonly Dictionary<AttemptKey, int> _survivors = [];

    private readonly RunnerSettings _settings;
    private readonly SandboxDecision _sandbox;
    private readonly Dictionary<long, SandboxLauncher> _sandboxes = [];
    private readonly Runs.Channel.RunChannelHost? _channelHost;
    private readonly Dictionary<long, Runs.Channel.RunChannelServer> _channels = [];

    public LocalJobRunner(RunnerHome home, RunnerSettings settings, RunnerCapacity capacity, ExecutorOptions options, IAttemptSink sink, TextWriter log,
        Runs.Channel.RunChannelHost? channels = null)
    {
        _channelHost = channels;
        _home = home;
        _settings = settings;
        Capacity = capacity;
        _options = options;
        _sink = sink;
        _log = log;
        _inherited = new InheritedEnvironment(home);
        // Two launchers per core at most: enough for one spawn to overlap the next one's exec.
        _spawner = new JobSpawner(Math.Clamp((int)Math.Ceiling(capacity.AtOnce.Cpu), 1, 4));
        _sandbox = SandboxMode.Decide(settings, BubblewrapSandbox.Find(), BubblewrapSandbox.FindLauncher());
        // Said once, here, for every batch this executor runs; a refused job also says it in its own reason.
        if (_sandbox.Reason is not null) _log.WriteLine($"sandbox: {_sandbox.Reason}");
    }

    public RunnerCapacity Capacity { get; }

    /// <summary>A local job is a process started now: the scheduler starts it once its parents have succeeded.</summary>
    public bool StartsAfterParents => false;

    public string ReserveLog(AttemptKey key)
    {
        var files = Files(key.BatchId);
        var log = new LaneLog(files.Take(), files.Take());
        lock (_reserved) _reserved[key] = log;
        return log.ToString();
    }

    public void Start(AttemptLaunch launch, string log)
    {
        var attempt = Track(launch.Key, LauncherFor);
        // A driver's clone and a cloud job's downloads take a while: they do not hold up the launchers.
        if (launch.Checkout is not null || launch.Staging is not null)
            _ = Task.Run(() => attempt.Launch(launch, _spawner, _inherited));
        else
            _spawner.Enqueue(() => attempt.Launch(launch, _spawner, _inherited));
    }

    public void Stop(AttemptKey key, string reason)
    {
        LocalAttempt? attempt;
        lock (_attempts) _attempts.TryGetValue(key, out attempt);
        attempt?.Stop(reason);
    }

    public IReadOnlyList<RecoveredAttempt> Recover(IReadOnlyDictionary<long, string?> batches)
    {
        var batchIds = batches.Keys;
        var processes = OrphanJobs.Find(_home, batchIds.ToHashSet());
        var recovered = new List<RecoveredAttempt>();
        var adoptable = new HashSet<AttemptKey>();
        foreach (var batchId in batchIds)
        {
            var ledger = BatchLedger.Read(_home, batchId);
            var shells = processes.Where(p => p.BatchId == batchId && p.IsShell).ToDictionary(p => (p.JobId, p.Attempt), p => p.Pid);
            var attempts = ledger.Starts.Keys.Concat(ledger.Exits.Keys).Concat(shells.Keys).Distinct();
            var running = attempts.Where(a => !ledger.Exits.ContainsKey(a) && shells.ContainsKey(a)).ToHashSet();
            var ends = LaneEnds(batchId, ledger, running);
            foreach (var (jobId, attempt) in attempts.Order())
            {
                var key = new AttemptKey(batchId, jobId, attempt);
                var log = ledger.Starts.TryGetValue((jobId, attempt), out var start)
                    ? new LaneLog(start.Stdout with { End = ends[((jobId, attempt), start.Stdout.Lane)] }, start.Stderr with { End = ends[((jobId, attempt), start.Stderr.Lane)] })
                    : (LaneLog?)null;
                if (running.Contains((jobId, attempt)))
                {
                    var pid = shells[(jobId, attempt)];
                    adoptable.Add(key);
                    _survivors[key] = pid;
                    // Its lanes stay its own until it ends. (No S line, which the runner writes before every
                    // start, means a ledger that was lost: its output is then somewhere this cannot say.)
                    var busy = log ?? new LaneLog(Files(batchId).Take(), Files(batchId).Take());
                    Files(batchId).MarkBusy(busy.Stdout.Lane);
                    Files(batchId).MarkBusy(busy.Stderr.Lane);
                    lock (_reserved) _reserved[key] = busy;
                    recovered.Add(new RecoveredAttempt(key, StillRunning: true, null, log?.ToString()));
                    _log.WriteLine($"recovery: {key} still runs as {pid}");
                }
                else
                    recovered.Add(new RecoveredAttempt(key, StillRunning: false,
                        ledger.Exits.TryGetValue((jobId, attempt), out var code) ? code : null, log?.ToString()));
            }
        }
        // What is left of attempts that are not adopted (their shells gone or finished) goes, group and all.
        OrphanJobs.Kill(processes.Where(p => !adoptable.Contains(p.Key)), _log);
        return recovered;
    }

    /// <summary>
    /// Where each stretch a ledger records ends: at the next start on its lane (starts in ledger order
    /// where two are equal), else at the lane's end — or open, while its attempt still writes.
    /// </summary>
    private Dictionary<((int JobId, int Attempt) Attempt, int Lane), long?> LaneEnds(long batchId, BatchLedger.Contents ledger, IReadOnlySet<(int, int)> running)
    {
        var ends = new Dictionary<((int, int), int), long?>();
        var stretches = ledger.Starts.SelectMany(pair => new[] { (Range: pair.Value.Stdout, Attempt: pair.Key), (Range: pair.Value.Stderr, Attempt: pair.Key) });
        foreach (var lane in stretches.GroupBy(s => s.Range.Lane))
        {
            var ordered = lane.OrderBy(s => s.Range.Start).ToList();
            var path = LocalLayout.Lane(_home, batchId, lane.Key);
            var length = File.Exists(path) ? new FileInfo(path).Length : 0;
            for (var i = 0; i < ordered.Count; i++)
                ends[(ordered[i].Attempt, lane.Key)] = i + 1 < ordered.Count ? ordered[i + 1].Range.Start
                    : running.Contains(ordered[i].Attempt) ? null : length;
        }
        return ends;
    }

    public void Adopt(AttemptLaunch launch, RecoveredAttempt attempt)
    {
        if (!_survivors.Remove(attempt.Key, out var pid))
            throw new InvalidOperationException($"{attempt.Key} was not found running at recovery.");
        // A survivor was started unsandboxed (a sandboxed one dies with its executor), so it is signalled directly.
        Track(attempt.Key, _ => _spawner).Adopt(pid, _spawner);
    }

    public void BatchFinished(long batchId)
    {
        SandboxLauncher? sandbox;
        Runs.Channel.RunChannelServer? channel;
        lock (_sandboxes)
        {
            _sandboxes.Remove(batchId, out sandbox);
            _channels.Remove(batchId, out channel);
        }
        sandbox?.Dispose();
        channel?.Dispose();
        lock (_batches)
            if (_batches.Remove(batchId, out var files)) files.Dispose();
        // Work folders are scratch (resources live in the tmp bucket); removed off the scheduler's thread.
        var folder = LocalLayout.SharedWork(_home, batchId);
        _ = Task.Run(() =>
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _log.WriteLine($"batch {batchId}: could not remove {folder}: {e.Message}"); }
        });
    }

    private LocalAttempt Track(AttemptKey key, Func<AttemptLaunch, IShellLauncher> launcherFor)
    {
        LaneLog log;
        lock (_reserved)
            if (!_reserved.Remove(key, out log))
                throw new InvalidOperationException($"{key} has no log reserved.");
        var attempt = new LocalAttempt(_home, key, Files(key.BatchId), log, _options.KillGrace, launcherFor, Ended);
        lock (_attempts) _attempts[key] = attempt;
        return attempt;
    }

    private void Ended(LocalAttempt attempt, int? exitCode, string? stopReason, string? error, ProcessUsage? usage)
    {
        lock (_attempts) _attempts.Remove(attempt.Key);
        var log = new LaneLog(attempt.Files.Release(attempt.Log.Stdout), attempt.Files.Release(attempt.Log.Stderr));
        _sink.Ended(new AttemptEnded(attempt.Key, exitCode, stopReason, error, log.ToString(), usage));
    }

    /// <summary>
    /// How a batch's shells are started: through the batch's sandbox (made with its first attempt, made
    /// again if it was lost), or directly where the settings allow no sandbox; refused (the attempt fails
    /// to start with SandboxNotAvailable) where a sandbox is required and cannot be had.
    /// </summary>
    private IShellLauncher LauncherFor(AttemptLaunch launch)
    {
        if (_sandbox.Use == SandboxUse.Unsandboxed) return _spawner;
        if (_sandbox.Use == SandboxUse.Refused)
            throw new AnalysisRunnerException(SandboxMode.NotAvailableErrorId, ErrorKind.ResourceUnavailable, _settings.ExecutorSandbox, _sandbox.Reason!);
        lock (_sandboxes)
        {
            var batchId = launch.Key.BatchId;
            if (_sandboxes.TryGetValue(batchId, out var sandbox) && sandbox.IsAlive) return sandbox;
            var launcher = BubblewrapSandbox.FindLauncher()!;
            // A batch of a run reaches the executor through a channel of its own (its driver's New-Batch,
            // Submit-Batch, Wait-Batch…), the one way out of the sandbox to what it hides.
            if (!_channels.TryGetValue(batchId, out var channel) && _channelHost?.Open(batchId, launch.ArGuid) is { } opened)
                _channels[batchId] = channel = opened;
            var view = SandboxView.For(_home, _settings, launch, launcher) with { Channel = channel?.SocketPath };
            // Made without following links (a job of an earlier batch may have put one where this batch's
            // resource folder goes), then every folder of the home the sandbox shows checked to lead only to
            // itself, since bwrap follows links in what it binds; a failure fails the batch's attempt to start.
            foreach (var folder in view.ReadWrite.Append(LocalLayout.Scripts(_home, batchId))) SandboxView.MakeFolder(folder, _home.Root);
            view.CheckNoLinks();
            sandbox = new SandboxLauncher(batchId, BubblewrapSandbox.Find()!, BubblewrapSandbox.Arguments(view, launcher), _spawner,
                SandboxLog(batchId), channel is null ? [] : [new(Runs.Channel.RunChannel.Variable, Runs.Channel.RunChannel.SandboxPath)]);
            sandbox.Lost += SandboxLost;
            _sandboxes[batchId] = sandbox;
            return sandbox;
        }
    }

    private string SandboxLog(long batchId) => Path.Combine(LocalLayout.BatchLogs(_home, batchId), "sandbox.log");

    /// <summary>A batch's sandbox ended under its jobs: they were killed with it, so each is interrupted (and retried as such).</summary>
    private void SandboxLost(SandboxLauncher sandbox)
    {
        // What bwrap or the launcher said (a bind that failed, say) is in the batch's sandbox.log.
        var said = "";
        try { said = string.Join(" | ", File.ReadLines(SandboxLog(sandbox.BatchId)).TakeLast(3)); }
        catch (IOException) { }
        _log.WriteLine($"sandbox: the sandbox of batch {sandbox.BatchId} ended while jobs ran in it; they are interrupted. {said}");
        List<LocalAttempt> running;
        lock (_attempts) running = _attempts.Values.Where(a => a.Key.BatchId == sandbox.BatchId).ToList();
        foreach (var attempt in running) attempt.Stop(StopReasons.Interrupted);
    }

    private BatchFiles Files(long batchId)
    {
        lock (_batches)
        {
            if (!_batches.TryGetValue(batchId, out var files))
                _batches[batchId] = files = new BatchFiles(_home, batchId);
            return files;
        }
    }

    public void Dispose()
    {
        lock (_sandboxes)
        {
            foreach (var sandbox in _sandboxes.Values) sandbox.Dispose();
            _sandboxes.Clear();
            foreach (var channel in _channels.Values) channel.Dispose();
            _channels.Clear();
        }
        _channelHost?.Dispose();
        lock (_batches)
        {
            foreach (var files in _batches.Values) files.Dispose();
            _batches.Clear();
        }
    }
}
