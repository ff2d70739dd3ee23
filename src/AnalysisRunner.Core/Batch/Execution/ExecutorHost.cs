using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

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
        var socket = ExecutorSocket.PathFor(home);
        FileLock? held = null;
        // Someone holds the lock: if it answers, it has our wake-up and we are not needed. If not, it
        // is starting (and will answer) or on its way out (socket already closed): wait for either.
        var decided = ExecutorPresence.WaitUntil(home, () =>
            (held = FileLock.TryTake(home.ExecutorLockPath)) is not null || ExecutorSocket.TrySend(socket, ExecutorSocket.Wake),
            lockWait ?? TimeSpan.FromSeconds(10));
        if (held is null)
        {
            log.WriteLine(decided
                ? $"executor {Environment.ProcessId}: another executor is running in {home.Root}; exiting"
                : $"executor {Environment.ProcessId}: could not lock {home.ExecutorLockPath}; exiting");
            return decided ? 0 : 1;
        }

        Deployment deployment;
        var handOver = false;
        int code;
        using (held)
        {
            // Beside the lock, not in it; removed on a clean exit, so one left behind means the last executor died.
            var uncleanStop = File.Exists(ExecutorPresence.PidPath(home));
            ExecutorPresence.WritePid(home);
            if (uncleanStop && !DatabaseIsSound(home, log)) return 1;
            deployment = Deployment.Open(home);
            try
            {
                using var scheduler = new BatchScheduler(deployment, options, log);
                code = await scheduler.RunAsync();
            }
            catch (AnalysisRunnerException lost) when (lost.ErrorId == "DatabaseUnavailable" && deployment.Batches is PostgresBatchStore)
            {
                // The ledger went away mid-round, so this loop's picture of its jobs may be ahead of the
                // database: it is not carried on. The outage is waited out here, holding the lock, and a
                // fresh executor takes over, which recovers from the ledger as after any stop.
                log.WriteLine($"executor {Environment.ProcessId}: {lost.Message}; waiting for the database to come back");
                await WaitForDatabaseAsync(deployment, log);
                handOver = true;
                code = 0;
            }
            File.Delete(ExecutorPresence.PidPath(home));
        }
        if (handOver)
        {
            log.WriteLine($"executor {Environment.ProcessId}: the database is back; handing over to a fresh executor");
            deployment.Executor.Wake();
        }
        return code;
    }

    /// <summary>Until the batch store answers again, asking after 1 s, then at doubling intervals up to a minute.</summary>
    private static async Task WaitForDatabaseAsync(Deployment deployment, TextWriter log)
    {
        for (var delay = TimeSpan.FromSeconds(1); ; delay = Later(delay))
        {
            await Task.Delay(delay);
            try
            {
                await deployment.Batches.FindBatchesAsync(new BatchQuery { First = 1 });
                return;
            }
            catch (AnalysisRunnerException still) when (still.ErrorId == "DatabaseUnavailable")
            {
                log.WriteLine($"executor {Environment.ProcessId}: the database is still unavailable; asking again in {Later(delay).TotalSeconds:0} s");
            }
        }

        static TimeSpan Later(TimeSpan delay) => TimeSpan.FromSeconds(Math.Min(60, delay.TotalSeconds * 2));
    }

    /// <summary>
    /// After an unclean stop (a killed executor, a machine that went down), every page of the
    /// database is checked before anything is scheduled from it. A damaged one is marked so every
    /// client says DatabaseDamaged, and nothing runs from it.
    /// </summary>
    private static bool DatabaseIsSound(RunnerHome home, TextWriter log)
    {
        var database = new RunnerDatabase(home);
        if (!File.Exists(home.DatabasePath) || File.Exists(database.DamagedMarkerPath)) return !File.Exists(database.DamagedMarkerPath);
        log.WriteLine($"executor {Environment.ProcessId}: the last executor did not stop cleanly; checking {home.DatabasePath}");
        if (database.CheckIntegrity() is not { } problem) return true;
        database.MarkDamaged(problem);
        log.WriteLine($"executor {Environment.ProcessId}: DatabaseDamaged: {new DatabaseDamagedException(home.DatabasePath, problem).Message}");
        File.Delete(ExecutorPresence.PidPath(home));
        return false;
    }
}
