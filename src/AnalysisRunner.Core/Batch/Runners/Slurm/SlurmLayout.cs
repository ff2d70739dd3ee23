using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// Where the Slurm runner keeps an attempt's traces, in the batch's log folder on the shared file
/// system, logs/&lt;batch&gt;/: &lt;job&gt;.&lt;attempt&gt;.out and .err (sbatch --output/--error),
/// &lt;job&gt;.&lt;attempt&gt;.sbatch (the script) and slurm-ledger (the Slurm job id of each attempt).
/// And how a job's Slurm name says whose it is: ar.&lt;home tag&gt;.&lt;batch&gt;.&lt;job&gt;.&lt;attempt&gt;.&lt;name&gt;.
/// </summary>
internal static class SlurmLayout
{
    public const string LedgerName = "slurm-ledger";

    public static string BatchLogs(RunnerHome home, long batchId) => Path.Combine(home.LogsDirectory, Id(batchId));

    /// <summary>What the store records as the attempt's log: the path that .out and .err complete.</summary>
    public static string LogStem(RunnerHome home, AttemptKey key) =>
        Path.Combine(BatchLogs(home, key.BatchId), $"{Id(key.JobId)}.{Id(key.Attempt)}");

    public static string Output(string stem, LogStream stream) => stem + (stream == LogStream.Stdout ? ".out" : ".err");

    public static string Script(RunnerHome home, AttemptKey key) => LogStem(home, key) + ".sbatch";

    public static string Ledger(RunnerHome home, long batchId) => Path.Combine(BatchLogs(home, batchId), LedgerName);

    public static string SharedWork(RunnerHome home, long batchId) => Path.Combine(home.WorkDirectory, Id(batchId));

    public static string PrivateWork(RunnerHome home, long batchId, int jobId) => Path.Combine(SharedWork(home, batchId), Id(jobId));

    /// <summary>
    /// The start of every Slurm job name of this runner home: two homes (two deployments, two test
    /// runs) on one cluster account never take each other's jobs for their own.
    /// </summary>
    public static string NamePrefix(RunnerHome home)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(home.Root)));
        return "ar." + Convert.ToHexStringLower(hash.AsSpan(0, 5)) + ".";
    }

    /// <summary>The job's Slurm name: the runner's identity first, then the user's name reduced to letters, digits, '_' and '-'.</summary>
    public static string JobName(string prefix, AttemptKey key, string name)
    {
        var safe = new StringBuilder(Math.Min(name.Length, 40));
        foreach (var c in name)
        {
            if (safe.Length == 40) break;
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}{key.BatchId}.{key.JobId}.{key.Attempt}.{safe}");
    }

    /// <summary>The attempt a Slurm name of this home names; null for any other name.</summary>
    public static AttemptKey? ParseJobName(string prefix, string name)
    {
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var parts = name[prefix.Length..].Split('.', 4);
        if (parts.Length < 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var batch)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var job)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)) return null;
        return new AttemptKey(batch, job, attempt);
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
