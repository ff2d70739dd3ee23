using System.Text;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>A process that carries a job's identity in its environment.</summary>
internal sealed record JobProcess(long BatchId, int JobId, int Attempt, int Pid, int Session)
{
    public AttemptKey Key => new(BatchId, JobId, Attempt);

    /// <summary>The job's shell leads its own session; anything else is something it started.</summary>
    public bool IsShell => Pid == Session;
}

/// <summary>
/// Jobs of a dead executor keep running in their own sessions. At recovery the next executor finds
/// them by the AR_HOME / AR_BATCH_ID / AR_JOB_ID / AR_ATTEMPT they carry: a job whose shell (the
/// session leader) is still alive is adopted and finishes its attempt; what is left of a job whose
/// shell is gone is killed, group and all, before the job is retried, so an attempt never runs
/// twice at once. Runs only at recovery, so reading /proc is affordable.
/// </summary>
internal static class OrphanJobs
{
    public static List<JobProcess> Find(RunnerHome home, IReadOnlySet<long> batchIds)
    {
        var found = new List<JobProcess>();
        if (batchIds.Count == 0 || !Directory.Exists("/proc")) return found;
        var self = Environment.ProcessId;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == self || !IsAlive(pid)) continue;
            var environment = ReadEnvironment(pid);
            if (environment is null
                || !environment.TryGetValue(RunnerHome.EnvironmentVariable, out var root) || root != home.Root
                || !environment.TryGetValue("AR_BATCH_ID", out var batch) || !long.TryParse(batch, out var batchId)
                || !environment.TryGetValue("AR_JOB_ID", out var job) || !int.TryParse(job, out var jobId)
                || !batchIds.Contains(batchId)
                || Stat(pid) is not { } stat)
                continue;
            var attempt = environment.TryGetValue("AR_ATTEMPT", out var a) && int.TryParse(a, out var n) ? n : 0;
            found.Add(new JobProcess(batchId, jobId, attempt, pid, stat.Session));
        }
        return found;
    }

    /// <summary>Kills these processes and their groups, and waits (up to 5 s) for each to be gone.</summary>
    public static void Kill(IEnumerable<JobProcess> processes, TextWriter log)
    {
        var ownSession = Stat(Environment.ProcessId)?.Session;
        var handles = new List<ProcessHandle>();
        foreach (var process in processes)
        {
            if (ProcessHandle.TryOpen(process.Pid) is { } handle) handles.Add(handle);
            if (process.Session != ownSession) ProcessSignals.SignalGroup(process.Session, ProcessSignals.Kill);
            ProcessSignals.Signal(process.Pid, ProcessSignals.Kill);
            log.WriteLine($"recovery: killed orphan process {process.Pid} of batch {process.BatchId} job {process.JobId}");
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        foreach (var handle in handles)
            using (handle)
                handle.WaitForExit(Max(deadline - DateTime.UtcNow, TimeSpan.Zero));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

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

    /// <summary>State, group and session from /proc/pid/stat (fields after the parenthesised command name, which may hold spaces).</summary>
    private static (char State, int Group, int Session)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[2]), int.Parse(fields[3]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException or FormatException) { return null; }
    }

    /// <summary>Alive and not a zombie waiting for its new parent to reap it.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z' && stat.State != 'X';
}
