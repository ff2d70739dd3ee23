namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>Everything needed to run one attempt, resolved on the scheduler loop before the Running row is committed.</summary>
internal sealed record LaunchPlan(
    long BatchId,
    int JobId,
    int Attempt,
    string Command,
    string Shell,
    string Script,
    string? ScriptPath,
    string WorkDirectory,
    string ResourceDirectory,
    CheckoutSpec? Checkout,
    JobLogPaths Logs,
    IReadOnlyList<string> Environment,
    IReadOnlyList<(string Source, string Destination)> Outputs,
    TimeSpan? Timeout,
    JobStaging? Staging = null,
    IReadOnlyList<string>? Reads = null);

/// <summary>How an attempt ended: the exit code (null if it never started), why it was stopped, or why it failed around the process.</summary>
internal sealed record AttemptOutcome(int? ExitCode, string? StopReason, string? Error);

/// <summary>
/// One attempt in flight: one bash in its own session (JobSpawner), stdout/stderr opened onto the
/// log files by the spawn, its end reported by the reaper thread (nothing waits or polls per job).
/// A job adopted from a dead executor is not our child; its end is noticed by watching /proc.
/// </summary>
internal sealed class RunningJob(JobNode node, LaunchPlan plan, TimeSpan killGrace)
{
    public const string Timeout = "Timeout";
    public const string Cancelled = "Cancelled";
    public const string Interrupted = "Interrupted";

    private static readonly TimeSpan AdoptedWatchInterval = TimeSpan.FromMilliseconds(100);
    private readonly Lock _gate = new();
    // Continuations run on the thread that ends the attempt (the reaper): the executor's only one
    // posts the end to the scheduler's queue, so a job's end costs one thread hop, not two.
    private readonly TaskCompletionSource<AttemptOutcome> _outcome = new();
    private int _pid;
    private bool _exited;

    public JobNode Node { get; } = node;
    public LaunchPlan Plan { get; } = plan;
    public double ReservedCpu { get; init; }
    public long ReservedMemory { get; init; }
    public string? StopReason { get; private set; }
    public Task<AttemptOutcome> Completion => _outcome.Task;

    /// <summary>SIGTERM to the job's process group, then SIGKILL to the group after the grace period. The first reason given wins.</summary>
    public void Stop(string reason)
    {
        int pid;
        lock (_gate)
        {
            StopReason ??= reason;
            if (_pid == 0 || _exited) return;
            pid = _pid;
        }
        ProcessSignals.SignalGroup(pid, ProcessSignals.SigTerm);
        _ = Task.Delay(killGrace).ContinueWith(_ =>
        {
            lock (_gate)
                if (!_exited) ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
        }, TaskScheduler.Default);
    }

    /// <summary>Prepares the folders and script and spawns the shell; a driver's checkout is cloned off the scheduler thread first.</summary>
    public void Start(JobSpawner spawner)
    {
        if (Plan.Checkout is null)
            Launch(spawner, () => Prepare());
        else
            _ = Task.Run(() => Launch(spawner, () => Prepare()));
    }

    private void Launch(JobSpawner spawner, Func<string> prepare)
    {
        try
        {
            var cwd = prepare();
            lock (_gate)
            {
                if (StopReason is not null)
                {
                    _exited = true;
                    _outcome.TrySetResult(new AttemptOutcome(null, StopReason, null));
                    return;
                }
                var logs = Plan.Logs;
                _pid = spawner.Spawn(Plan.Shell, cwd, ShellArguments(), logs.Stdout, logs.Stderr, Plan.Environment, Exited);
            }
            if (Plan.Timeout is { } timeout)
                _ = Task.Delay(timeout).ContinueWith(_ => { if (!Completion.IsCompleted) Stop(Timeout); }, TaskScheduler.Default);
        }
        catch (Exception e)
        {
            lock (_gate) _exited = true;
            _outcome.TrySetResult(new AttemptOutcome(null, StopReason, $"StartFailed: {e.Message}"));
        }
    }

    /// <summary>Takes over an attempt a dead executor started and that is still running as <paramref name="pid"/>.</summary>
    public void Adopt(int pid, Func<int?> recordedExit)
    {
        lock (_gate) _pid = pid;
        _ = Task.Run(async () =>
        {
            while (OrphanJobs.IsAlive(pid)) await Task.Delay(AdoptedWatchInterval);
            ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
            var code = recordedExit();
            Finish(code, code is null ? StopReason ?? Interrupted : StopReason);
        });
    }

    private void Exited(int code) => Finish(code, StopReason);

    private void Finish(int? code, string? stopReason)
    {
        lock (_gate) _exited = true;
        if (code == 0 && stopReason is null && (Plan.Outputs.Count > 0 || Plan.Staging is not null))
        {
            _ = Task.Run(() => _outcome.TrySetResult(new AttemptOutcome(code, null,
                Node.Batch.Paths?.CheckCopies(Plan.Outputs, Plan.ResourceDirectory) ?? CopyOutputs(Plan.Outputs) ?? Publish())));
            return;
        }
        _outcome.TrySetResult(new AttemptOutcome(code, stopReason, null));
    }

    /// <summary>The script goes to the shell as an argument (no file to create per job) unless it is too long for one.</summary>
    private string[] ShellArguments() => Plan.ScriptPath is { } path ? [path] : ["-c", Plan.Script];

    /// <summary>Fresh work folder, the job's resource folder and the batch's log folder; returns the cwd.</summary>
    private string Prepare()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Plan.Logs.Stdout)!);
        if (Plan.Attempt > 1 && Directory.Exists(Plan.WorkDirectory)) Directory.Delete(Plan.WorkDirectory, recursive: true);
        Directory.CreateDirectory(Plan.WorkDirectory);
        Directory.CreateDirectory(Plan.ResourceDirectory);
        if (Plan.ScriptPath is { } scriptPath) File.WriteAllText(scriptPath, Plan.Script);
        Plan.Staging?.Download(Plan.Reads ?? []);
        return Plan.Checkout is { } checkout ? DriverCheckout.Checkout(checkout, Plan.WorkDirectory) : Plan.WorkDirectory;
    }

    /// <summary>Copies a succeeded job's outputs; returns why one failed, or null.</summary>
    /// <summary>On a remote backend, the job's resources and outputs go up once it has succeeded.</summary>
    private string? Publish()
    {
        if (Plan.Staging is null) return null;
        try
        {
            Plan.Staging.Upload(Plan.ResourceDirectory, Plan.Outputs.Select(output => output.Destination));
            return null;
        }
        catch (Exception e) when (e is AnalysisRunnerException or IOException)
        {
            return $"OutputUploadFailed: {e.Message}";
        }
    }

    public static string? CopyOutputs(IReadOnlyList<(string Source, string Destination)> outputs)
    {
        foreach (var (source, destination) in outputs)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                if (Directory.Exists(source)) CopyDirectory(source, destination);
                else File.Copy(source, destination, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"OutputCopyFailed: {source} → {destination}: {e.Message}";
            }
        }
        return null;
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
