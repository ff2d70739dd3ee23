using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// Where the local runner keeps a batch's traces, all in one folder per batch, logs/&lt;batch&gt;/:
/// the log lanes &lt;n&gt;.log that its attempts' stdout and stderr append to, the ledger (which
/// attempt started on which lanes where, and the status each attempt's shell recorded as it ended),
/// for a script too long for one argument, scripts/&lt;job&gt;.&lt;attempt&gt;.sh (read-only in the batch's sandbox), and for a sandboxed batch sandbox.log
/// (what its bwrap and launcher wrote to stderr). Work folders are
/// work/&lt;batch&gt;/ (shared by the batch's jobs) and work/&lt;batch&gt;/&lt;job&gt;/ (a job's own).
/// </summary>
internal static class LocalLayout
{
    public const string LedgerName = "ledger";

    /// <summary>Scripts longer than this go into a file: Linux refuses a single argument over 128 KiB.</summary>
    public const int LongestInlineScript = 100_000;

    public static string BatchLogs(RunnerHome home, long batchId) => Path.Combine(home.LogsDirectory, Id(batchId));

    public static string Ledger(RunnerHome home, long batchId) => Path.Combine(BatchLogs(home, batchId), LedgerName);

    public static string Lane(RunnerHome home, long batchId, int lane) => Path.Combine(BatchLogs(home, batchId), Id(lane) + ".log");

    /// <summary>
    /// Where the executor writes the scripts too long for an argument: a folder of the batch's log folder
    /// that its sandbox shows read-only (the log folder itself is writable there, for the lanes and ledger),
    /// so a job cannot put a link where the executor is about to write a later job's script.
    /// </summary>
    public static string Scripts(RunnerHome home, long batchId) => Path.Combine(BatchLogs(home, batchId), "scripts");

    public static string Script(RunnerHome home, AttemptKey key) =>
        Path.Combine(Scripts(home, key.BatchId), $"{Id(key.JobId)}.{Id(key.Attempt)}.sh");

    public static string SharedWork(RunnerHome home, long batchId) => Path.Combine(home.WorkDirectory, Id(batchId));

    public static string PrivateWork(RunnerHome home, long batchId, int jobId) => Path.Combine(SharedWork(home, batchId), Id(jobId));

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
