using System.Globalization;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// A batch's ledger, logs/&lt;batch&gt;/ledger: one line per event, appended with one write each.
///   S &lt;job&gt; &lt;attempt&gt; &lt;out lane&gt; &lt;out start&gt; &lt;err lane&gt; &lt;err start&gt;  — the runner, just before it starts an attempt
///   E &lt;job&gt; &lt;attempt&gt; &lt;status&gt;                                    — the attempt's shell, in its EXIT trap
/// It is what the runner itself knows, apart from the database: after a crash, or after the database
/// lost its last commits, it says which attempts started where and how the ones that ended ended.
/// </summary>
internal static class BatchLedger
{
    public static string StartLine(AttemptKey key, LaneLog log) => string.Create(CultureInfo.InvariantCulture,
        $"S {key.JobId} {key.Attempt} {log.Stdout.Lane} {log.Stdout.Start} {log.Stderr.Lane} {log.Stderr.Start}\n");

    /// <summary>The command an attempt's shell runs as it exits: appends "E job attempt $?" to the ledger.</summary>
    public static string EndCommand(RunnerHome home, AttemptKey key) => string.Create(CultureInfo.InvariantCulture,
        $"echo E {key.JobId} {key.Attempt} $? >>{ShellQuoting.Quote(LocalLayout.Ledger(home, key.BatchId))}");

    /// <summary>What one ledger says: where each attempt started, and the status of each that recorded one.</summary>
    public sealed class Contents
    {
        public Dictionary<(int JobId, int Attempt), LaneLog> Starts { get; } = [];
        public Dictionary<(int JobId, int Attempt), int> Exits { get; } = [];
    }

    /// <summary>Reads a batch's ledger; a torn last line (a write cut off) is ignored; a missing ledger is empty.</summary>
    public static Contents Read(RunnerHome home, long batchId)
    {
        var contents = new Contents();
        string text;
        try { text = File.ReadAllText(LocalLayout.Ledger(home, batchId)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return contents; }
        foreach (var line in text[..(text.LastIndexOf('\n') + 1)].Split('\n'))
        {
            var f = line.Split(' ');
            if (f.Length == 7 && f[0] == "S" && Numbers(f, out var n))
                contents.Starts[((int)n[0], (int)n[1])] = new LaneLog(new LaneRange((int)n[2], n[3], null), new LaneRange((int)n[4], n[5], null));
            else if (f.Length == 4 && f[0] == "E" && Numbers(f, out n))
                contents.Exits[((int)n[0], (int)n[1])] = (int)n[2];
        }
        return contents;
    }

    private static bool Numbers(string[] fields, out long[] numbers)
    {
        numbers = new long[fields.Length - 1];
        for (var i = 1; i < fields.Length; i++)
            if (!long.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i - 1])) return false;
        return true;
    }
}
