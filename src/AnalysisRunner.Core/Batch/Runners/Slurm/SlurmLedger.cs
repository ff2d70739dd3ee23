using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// A batch's slurm-ledger: "Q &lt;job&gt; &lt;attempt&gt; &lt;slurm id&gt;" appended (one write each) as soon
/// as sbatch answers. With the job's unique name it is how a restarted runner finds its jobs again: by
/// name while the controller holds them, by this id in sacct once it has forgotten them.
/// </summary>
internal static class SlurmLedger
{
    private static readonly Lock Gate = new();

    public static void Append(RunnerHome home, AttemptKey key, string slurmId)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"Q {key.JobId} {key.Attempt} {slurmId}\n");
        lock (Gate) File.AppendAllText(SlurmLayout.Ledger(home, key.BatchId), line);
    }

    /// <summary>The Slurm id of each attempt the ledger records; a torn last line is ignored; no ledger is empty.</summary>
    public static Dictionary<(int JobId, int Attempt), string> Read(RunnerHome home, long batchId)
    {
        var ids = new Dictionary<(int, int), string>();
        string text;
        try { text = File.ReadAllText(SlurmLayout.Ledger(home, batchId)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ids; }
        foreach (var line in text[..(text.LastIndexOf('\n') + 1)].Split('\n'))
        {
            var f = line.Split(' ');
            if (f.Length == 4 && f[0] == "Q"
                && int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var job)
                && int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
                && f[3].Length > 0 && f[3].All(char.IsAsciiDigit))
                ids[(job, attempt)] = f[3];
        }
        return ids;
    }
}
