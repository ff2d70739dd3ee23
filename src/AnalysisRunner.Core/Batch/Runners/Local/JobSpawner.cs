using System.Runtime.InteropServices;
using AnalysisRunner.Core.Native;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// Starts job shells and reaps them, off the scheduler's thread. Launches queue for a few launcher
/// threads, so the scheduler never waits for a child and the next job can start while the last is
/// still exec'ing (posix_spawn holds its caller until the child has exec'd). One reaper thread
/// blocks in waitid and sees each exit while the shell is still a zombie, so killing what is left of
/// its process group can never hit a recycled process id.
/// </summary>
internal sealed class JobSpawner : IShellLauncher
{
    public const string DefaultShell = "bash";

    private readonly object _gate = new();
    private readonly Dictionary<int, (Action<int, ProcessUsage?> Exited, long StartedAt)> _exits = [];
    private int _spawning;
    private readonly Queue<Action> _launches = new();
    private readonly Dictionary<string, string?> _shells = [];

    public JobSpawner(int launchers)
    {
        new Thread(Reap) { IsBackground = true, Name = "job reaper" }.Start();
        for (var i = 0; i < Math.Max(1, launchers); i++)
            new Thread(Launch) { IsBackground = true, Name = "job launcher " + i }.Start();
    }

    /// <summary>Runs <paramref name="launch"/> on a launcher thread, in the order queued.</summary>
    public void Enqueue(Action launch)
    {
        lock (_launches)
        {
            _launches.Enqueue(launch);
            Monitor.Pulse(_launches);
        }
    }

    /// <summary>The path of a job's shell (bash when it names none), found once per name; null when there is no such program.</summary>
    public string? FindShell(string? shell)
    {
        shell ??= DefaultShell;
        lock (_shells)
        {
            if (!_shells.TryGetValue(shell, out var path))
                _shells[shell] = path = shell.StartsWith('/') ? (File.Exists(shell) ? shell : null) : FindOnPath(shell);
            return path;
        }
    }

    public void Signal(int shell, int signal) => ProcessSignals.SignalGroup(shell, signal);

    /// <summary>Starts the process; <paramref name="exited"/> gets its exit code (128+signal when killed) and what it used, on the reaper thread.</summary>
    public int Start(SpawnRequest request, Action<int, ProcessUsage?> exited)
    {
        lock (_gate) _spawning++;
        int pid = 0;
        var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // Not under the lock: other launchers spawn meanwhile, and the reaper waits for this registration.
            pid = ProcessSpawn.Start(request);
        }
        finally
        {
            lock (_gate)
            {
                _spawning--;
                if (pid > 0) _exits[pid] = (exited, startedAt);
                Monitor.PulseAll(_gate);
            }
        }
        return pid;
    }

    private void Launch()
    {
        while (true)
        {
            Action next;
            lock (_launches)
            {
                while (_launches.Count == 0) Monitor.Wait(_launches);
                next = _launches.Dequeue();
            }
            next();
        }
    }

    private void Reap()
    {
        while (true)
        {
            // The raw call: with WNOWAIT it also gives the zombie's rusage, so usage is known before the reap below.
            if (waitid_with_usage(SYS_waitid, P_ALL, 0, out var info, WEXITED | WNOWAIT, out var usage) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                ReapWait next;
                lock (_gate)
                {
                    next = AfterWaitFailed(errno, _exits.Count > 0);
                    if (next == ReapWait.UntilSpawn) Monitor.Wait(_gate);
                }
                // Not while holding the lock: a spawn must never wait for the reaper's back-off.
                if (next == ReapWait.BackOff) Thread.Sleep(10);
                continue;
            }
            var pid = info.Pid;
            var code = info.Code == CLD_EXITED ? info.Status : 128 + info.Status;
            (Action<int, ProcessUsage?> Exited, long StartedAt) registered;
            bool known;
            lock (_gate)
            {
                // A child that exits before its spawner has registered it: wait for the registration.
                while (!_exits.ContainsKey(pid) && _spawning > 0) Monitor.Wait(_gate);
                known = _exits.Remove(pid, out registered);
            }
            if (!known)
            {
                // Not a job: a child the runtime started (sbatch, squeue for a Slurm runner in the same
                // executor) is the runtime's to reap; taking it would make the runtime fail fast.
                Thread.Sleep(1);
                continue;
            }
            // Whatever the job left running in its session goes with it, before the zombie (which pins the group id) is reaped.
            ProcessSignals.SignalGroup(pid, ProcessSignals.Kill);
            // The callback marks the job ended before the zombie goes, so no later signal is sent to its group.
            registered.Exited(code, ProcessUsage.FromRusage(usage, System.Diagnostics.Stopwatch.GetElapsedTime(registered.StartedAt).TotalSeconds));
            while (waitid(P_PID, pid, out _, WEXITED) != 0 && Marshal.GetLastPInvokeError() == EINTR) { }
        }
    }

    internal enum ReapWait { Retry, UntilSpawn, BackOff }

    /// <summary>What the reaper does when waitid fails with <paramref name="errno"/>.</summary>
    internal static ReapWait AfterWaitFailed(int errno, bool anyRegistered)
    {
        if (errno == ECHILD) return anyRegistered ? ReapWait.Retry : ReapWait.UntilSpawn; // no children: sleep until the next spawn
        return errno == EINTR ? ReapWait.Retry : ReapWait.BackOff;
    }

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
