using System.Text;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// Jobs of a dead executor keep running in their own sessions. Before their rows are retried, the
/// processes still carrying their AR_HOME / AR_BATCH_ID / AR_JOB_ID are killed, group and all, so an
/// attempt never runs twice at once. Runs only at recovery, so reading /proc is affordable.
/// </summary>
internal static class OrphanJobs
{
    public static int Kill(RunnerHome home, IReadOnlySet<(long BatchId, int JobId)> jobs, TextWriter log)
    {
        if (jobs.Count == 0 || !Directory.Exists("/proc")) return 0;
        var self = Environment.ProcessId;
        var ownGroup = ProcessGroup(self);
        var killed = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == self) continue;
            var environment = ReadEnvironment(pid);
            if (environment is null
                || !environment.TryGetValue(RunnerHome.EnvironmentVariable, out var root) || root != home.Root
                || !environment.TryGetValue("AR_BATCH_ID", out var batch) || !long.TryParse(batch, out var batchId)
                || !environment.TryGetValue("AR_JOB_ID", out var job) || !int.TryParse(job, out var jobId)
                || !jobs.Contains((batchId, jobId)))
                continue;
            var group = ProcessGroup(pid);
            if (group is { } g && g != ownGroup) ProcessSignals.SignalGroup(g, ProcessSignals.SigKill);
            KillOne(pid);
            killed.Add(pid);
            log.WriteLine($"recovery: killed orphan process {pid} of batch {batchId} job {jobId}");
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (killed.Any(IsAlive) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        return killed.Count;
    }

    private static void KillOne(int pid)
    {
        try { System.Diagnostics.Process.GetProcessById(pid).Kill(); }
        catch (ArgumentException) { }
        catch (InvalidOperationException) { }
    }

    private static Dictionary<string, string>? ReadEnvironment(int pid)
    {
        try
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Split('\0'))
            {
                var equals = entry.IndexOf('=');
                if (equals > 0) result.TryAdd(entry[..equals], entry[(equals + 1)..]);
            }
            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Field 5 of /proc/pid/stat (after the parenthesised command name, which may hold spaces).</summary>
    private static int? ProcessGroup(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.TryParse(fields[2], out var group) ? group : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException) { return null; }
    }

    /// <summary>Alive and not a zombie waiting for its new parent to reap it.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
