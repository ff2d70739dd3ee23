using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Where the attempts of a batch's jobs leave their traces, all in one folder per batch
/// (&lt;home&gt;/logs/&lt;batch&gt;/): &lt;job&gt;.&lt;attempt&gt;.out and .err, and one ledger, exits, to which
/// every attempt's shell appends "&lt;job&gt; &lt;attempt&gt; &lt;status&gt;" as it ends. The ledger lets a
/// restarted executor tell a job that finished from one that was cut off. One folder and one ledger
/// per batch, not a folder and a status file per job: creating files is most of what the file system
/// costs a job, and the shell's append is a single write, atomic beside the others.
/// </summary>
public static class JobLogFiles
{
    public const string ExitLedgerName = "exits";

    /// <summary>Scripts longer than this go into a file (&lt;job&gt;.&lt;attempt&gt;.sh): Linux refuses a single argument over 128 KiB.</summary>
    public const int LongestInlineScript = 100_000;

    public static string BatchDirectory(RunnerHome home, long batchId) =>
        Path.Combine(home.LogsDirectory, batchId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Where an attempt writes its logs (what the executor opens for a new attempt).</summary>
    public static JobLogPaths For(RunnerHome home, long batchId, int jobId, int attempt)
    {
        var prefix = Prefix(home, batchId, jobId, attempt);
        return new JobLogPaths(prefix + ".out", prefix + ".err");
    }

    /// <summary>
    /// Where an attempt's logs are to be read: as For, or, for a batch run before this layout, its
    /// folder per job (logs/&lt;b&gt;/&lt;j&gt;/&lt;attempt&gt;.out).
    /// </summary>
    public static JobLogPaths Find(RunnerHome home, long batchId, int jobId, int attempt)
    {
        var current = For(home, batchId, jobId, attempt);
        var legacy = LegacyPrefix(home, batchId, jobId, attempt);
        return !File.Exists(current.Stdout) && File.Exists(legacy + ".out") ? new JobLogPaths(legacy + ".out", legacy + ".err") : current;
    }

    public static string ScriptPath(RunnerHome home, long batchId, int jobId, int attempt) =>
        Prefix(home, batchId, jobId, attempt) + ".sh";

    public static string ExitLedgerPath(RunnerHome home, long batchId) =>
        Path.Combine(BatchDirectory(home, batchId), ExitLedgerName);

    /// <summary>The line an attempt's shell appends to the ledger: "&lt;job&gt; &lt;attempt&gt; $?".</summary>
    public static string ExitRecordCommand(RunnerHome home, long batchId, int jobId, int attempt) =>
        $"echo {jobId.ToString(CultureInfo.InvariantCulture)} {attempt.ToString(CultureInfo.InvariantCulture)} $? >>{ShellQuoting.Quote(ExitLedgerPath(home, batchId))}";

    /// <summary>The exit status an attempt recorded, or null when it never got to record one.</summary>
    public static int? ReadExitStatus(RunnerHome home, long batchId, int jobId, int attempt) =>
        ExitStatus(ReadExitStatuses(home, batchId), home, batchId, jobId, attempt);

    /// <summary>
    /// An attempt's status from a ledger already read with ReadExitStatuses (for callers asking about
    /// several attempts of one batch), else from the layout before the ledger; null when none was recorded.
    /// </summary>
    public static int? ExitStatus(IReadOnlyDictionary<(int JobId, int Attempt), int> recorded, RunnerHome home, long batchId, int jobId, int attempt) =>
        recorded.TryGetValue((jobId, attempt), out var code) ? code : ReadLegacyExitStatus(home, batchId, jobId, attempt);

    /// <summary>Every status the batch's attempts recorded, by (job, attempt); a torn last line is ignored.</summary>
    public static Dictionary<(int JobId, int Attempt), int> ReadExitStatuses(RunnerHome home, long batchId)
    {
        var statuses = new Dictionary<(int, int), int>();
        string text;
        try { text = File.ReadAllText(ExitLedgerPath(home, batchId)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return statuses; }
        // Only whole lines count: a write cut short ("4 1 13" of "4 1 130") has no newline yet.
        foreach (var line in text[..(text.LastIndexOf('\n') + 1)].Split('\n'))
        {
            var fields = line.Split(' ');
            if (fields.Length == 3
                && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var job)
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
                && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
                statuses[(job, attempt)] = code;
        }
        return statuses;
    }

    /// <summary>An attempt's status from the layout before the ledger (logs/&lt;b&gt;/&lt;j&gt;/&lt;attempt&gt;.exit), for batches started before it.</summary>
    private static int? ReadLegacyExitStatus(RunnerHome home, long batchId, int jobId, int attempt)
    {
        try
        {
            var text = File.ReadAllText(LegacyPrefix(home, batchId, jobId, attempt) + ".exit").Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string LegacyPrefix(RunnerHome home, long batchId, int jobId, int attempt) =>
        Path.Combine(BatchDirectory(home, batchId), jobId.ToString(CultureInfo.InvariantCulture), attempt.ToString(CultureInfo.InvariantCulture));

    private static string Prefix(RunnerHome home, long batchId, int jobId, int attempt) =>
        Path.Combine(BatchDirectory(home, batchId), $"{jobId.ToString(CultureInfo.InvariantCulture)}.{attempt.ToString(CultureInfo.InvariantCulture)}");
}
