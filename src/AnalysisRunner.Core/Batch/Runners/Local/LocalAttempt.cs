using System.Diagnostics;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// One attempt on the local runner: a shell in its own session (JobSpawner) whose stdout and stderr
/// append to its log lanes, its end seen by the reaper thread; or, when adopted from a dead executor
/// (not our child), its end seen through a pidfd. Stop sends SIGTERM to the group and SIGKILL after the grace.
/// </summary>
internal sealed class LocalAttempt(RunnerHome home, AttemptKey key, BatchFiles files, LaneLog log, TimeSpan killGrace,
    Func<AttemptLaunch, IShellLauncher> launcherFor, Action<LocalAttempt, int?, string?, string?, ProcessUsage?> ended)
{
    private readonly Lock _gate = new();
    private IShellLauncher? _launcher;
    private int _pid;
    private bool _exited;

    public AttemptKey Key { get; } = key;
    public BatchFiles Files { get; } = files;
    public LaneLog Log { get; } = log;
    public string? StopReason { get; private set; }

    /// <summary>The first reason given wins; an attempt not started yet never starts.</summary>
    public void Stop(string reason)
    {
        int pid;
        lock (_gate)
        {
            StopReason ??= reason;
            if (_pid == 0 || _exited || _launcher is null) return;
            pid = _pid;
        }
        var launcher = _launcher;
        launcher.Signal(pid, ProcessSignals.Terminate);
        _ = Task.Delay(killGrace).ContinueWith(_ =>
        {
            lock (_gate)
                if (!_exited) launcher.Signal(pid, ProcessSignals.Kill);
        }, TaskScheduler.Default);
    }

    /// <summary>Records the start in the ledger, prepares the folders (and a driver's checkout), then spawns the shell.</summary>
    public void Launch(AttemptLaunch launch, JobSpawner spawner, InheritedEnvironment inherited)
    {
        try
        {
            Files.AppendLedger(BatchLedger.StartLine(Key, Log));
            var shell = spawner.FindShell(launch.Shell)
                ?? throw new AnalysisRunnerException("ShellNotFound", ErrorKind.ObjectNotFound, launch.Shell,
                    $"Shell '{launch.Shell}' was not found{(launch.Shell!.StartsWith('/') ? "" : " on the executor's PATH")}.");
            var cwd = Prepare(launch);
            // The batch's sandbox (made with its first job, after that job's folders exist), or the plain spawner.
            var launcher = launcherFor(launch);
            var script = LocalJobScript.For(home, Key, launch.Command);
            var arguments = LocalJobScript.Arguments(home, Key, script);
            lock (_gate)
            {
                if (StopReason is not null)
                {
                    _exited = true;
                    ended(this, null, StopReason, null, null);
                    return;
                }
                _launcher = launcher;
                _pid = launcher.Start(new SpawnRequest(shell, arguments, inherited.For(launch))
                {
                    WorkingDirectory = cwd,
                    Stdout = Files.Lane(Log.Stdout.Lane),
                    Stderr = Files.Lane(Log.Stderr.Lane),
                    StdoutPath = LocalLayout.Lane(home, Key.BatchId, Log.Stdout.Lane),
                    StderrPath = LocalLayout.Lane(home, Key.BatchId, Log.Stderr.Lane),
                }, Exited);
            }
            if (launch.Timeout is { } timeout)
                _ = Task.Delay(timeout).ContinueWith(_ => Stop(StopReasons.Timeout), TaskScheduler.Default);
        }
        catch (Exception e)
        {
            // Whatever goes wrong starting one job fails that job at start, never the executor.
            var why = "StartFailed: " + e.Message;
            TryWriteLine(Log.Stderr, why);
            lock (_gate) _exited = true;
            ended(this, null, StopReason, why, null);
        }
    }

    /// <summary>Takes over an attempt a dead executor started that still runs as <paramref name="pid"/>; its status comes from the ledger.</summary>
    public void Adopt(int pid, IShellLauncher spawner)
    {
        var handle = ProcessHandle.TryOpen(pid);
        lock (_gate)
        {
            _pid = pid;
            _launcher = spawner;
        }
        new Thread(() =>
        {
            if (handle is not null)
                using (handle)
                    handle.WaitForExit(null);
            ProcessSignals.SignalGroup(pid, ProcessSignals.Kill);
            lock (_gate) _exited = true;
            int? code = BatchLedger.Read(home, Key.BatchId).Exits.TryGetValue((Key.JobId, Key.Attempt), out var status) ? status : null;
            ended(this, code, code is null ? StopReason ?? StopReasons.Interrupted : StopReason, null, null);
        }) { IsBackground = true, Name = $"adopted {Key}" }.Start();
    }

    private void Exited(int code, ProcessUsage? usage)
    {
        lock (_gate) _exited = true;
        ended(this, code, StopReason, null, usage);
    }

    /// <summary>The work folder (fresh for a private one), the resources' folders, a driver's checkout; returns the cwd.</summary>
    private string Prepare(AttemptLaunch launch)
    {
        var work = launch.Work == WorkFolder.Private
            ? LocalLayout.PrivateWork(home, Key.BatchId, Key.JobId)
            : LocalLayout.SharedWork(home, Key.BatchId);
        if (launch.Work == WorkFolder.Private && Key.Attempt > 1 && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        // Never through a link: a job may put one where a later batch's resource folder goes (its tmp bucket).
        Sandbox.SandboxView.MakeFolder(work, home.Root);
        if (launch.BatchResourceRoot is { } resources) Sandbox.SandboxView.MakeFolder(resources, home.Root);
        foreach (var folder in launch.ResourceFolders) Sandbox.SandboxView.MakeFolder(folder, home.Root);
        launch.Staging?.Download(launch.Reads);
        return launch.Checkout is { } checkout ? CheckOut(checkout, work) : work;
    }

    /// <summary>A driver's clone and checkout, each step written to its log with how long it took.</summary>
    private string CheckOut(CheckoutSpec checkout, string workDirectory)
    {
        var clock = Stopwatch.StartNew();
        var steps = new DriverCheckout.Steps(
            Started: step => { clock.Restart(); TryWriteLine(Log.Stdout, step); },
            Done: step => TryWriteLine(Log.Stdout, $"{step}: done in {clock.Elapsed.TotalSeconds:0.000} s"));
        return DriverCheckout.Checkout(checkout, workDirectory, steps);
    }

    private void TryWriteLine(LaneRange lane, string text)
    {
        try { Files.WriteLine(lane, text); }
        catch (IOException) { }
    }
}
