using System.Globalization;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// Whether a home's executor is there and what it is doing, from the outside: the exclusive lock it
/// holds for its whole life, the pid file it writes beside it, and its socket. Waiting for it to
/// start listening or to go away watches the home (inotify: the socket and pid file appear and
/// disappear) and its process (pidfd), so it costs no polling.
/// </summary>
internal static class ExecutorPresence
{
    public static string PidPath(RunnerHome home) => Path.Combine(home.Root, "executor.pid");

    /// <summary>Whether an executor holds the home's lock right now.</summary>
    public static bool IsRunning(RunnerHome home)
    {
        if (!File.Exists(home.ExecutorLockPath)) return false;
        using var held = FileLock.TryTake(home.ExecutorLockPath);
        return held is null;
    }

    /// <summary>The pid the running executor wrote, or null (none runs, or it has not written it yet).</summary>
    public static int? ProcessId(RunnerHome home)
    {
        try { return int.TryParse(File.ReadAllText(PidPath(home)), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Written by the lock holder, renamed into place so a watcher sees it appear whole.</summary>
    public static void WritePid(RunnerHome home)
    {
        var temp = PidPath(home) + ".tmp";
        File.WriteAllText(temp, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        File.Move(temp, PidPath(home), overwrite: true);
    }

    /// <summary>
    /// Waits until <paramref name="done"/> holds or the timeout passes, waking when the home's socket or
    /// pid file appear or go, or when <paramref name="process"/> (else the lock holder) exits.
    /// </summary>
    public static bool WaitUntil(RunnerHome home, Func<bool> done, TimeSpan timeout, ProcessHandle? process = null)
    {
        var folders = new[] { home.Root, Path.GetDirectoryName(ExecutorSocket.PathFor(home))! };
        using var watch = new DirectoryWatch(folders);
        var deadline = DateTime.UtcNow + timeout;
        // The holder is remembered: its pid file goes before its lock does, and only its exit says the lock went.
        ProcessHandle? holder = null;
        int? holderPid = null;
        try
        {
            while (!done())
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                if (process is null && ProcessId(home) is { } pid && pid != holderPid)
                {
                    holder?.Dispose();
                    holder = ProcessHandle.TryOpen(pid);
                    holderPid = pid;
                }
                var waitOn = process ?? holder;
                if (waitOn is { HasExited: true })
                {
                    // Gone: its lock is free by now. Waiting on it again would return at once.
                    if (waitOn == process) process = null;
                    else { holder!.Dispose(); holder = null; }
                    continue;
                }
                watch.Wait(left, waitOn?.Descriptor);
            }
            return true;
        }
        finally
        {
            holder?.Dispose();
        }
    }
}
