using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// One executor per runner home: the process that holds an exclusive lock on executor.lock runs
/// the scheduler; any other exits quietly after passing the wake-up on. The kernel drops the lock
/// when its holder dies, however it dies, which is what lets the next one recover.
/// </summary>
public static class ExecutorHost
{
    public static async Task<int> RunAsync(RunnerHome home, ExecutorOptions options, TextWriter log, TimeSpan? lockWait = null)
    {
        Directory.CreateDirectory(home.Root);
        var deadline = DateTime.UtcNow + (lockWait ?? TimeSpan.FromSeconds(10));
        FileStream? lockFile = null;
        while (lockFile is null)
        {
            lockFile = TryLock(home);
            if (lockFile is not null) break;
            // Someone holds the lock: if it answers, it has our wake-up and we are not needed.
            // If not, it is on its way out (socket already closed); wait for it to let go.
            if (ExecutorSocket.TrySend(ExecutorSocket.PathFor(home), ExecutorSocket.Wake))
            {
                log.WriteLine($"executor {Environment.ProcessId}: another executor is running in {home.Root}; exiting");
                return 0;
            }
            if (DateTime.UtcNow > deadline)
            {
                log.WriteLine($"executor {Environment.ProcessId}: could not lock {home.ExecutorLockPath}; exiting");
                return 1;
            }
            await Task.Delay(100);
        }

        using (lockFile)
        {
            // Beside the lock, not in it: nobody else can read a file under an exclusive flock.
            File.WriteAllText(PidPath(home), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var executor = new LocalExecutor(home, options, log);
            return await executor.RunAsync();
        }
    }

    internal static string PidPath(RunnerHome home) => Path.Combine(home.Root, "executor.pid");

    /// <summary>FileShare.None is an exclusive flock on Linux; null when another process holds it.</summary>
    internal static FileStream? TryLock(RunnerHome home)
    {
        try
        {
            return new FileStream(home.ExecutorLockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
