using System.Text;
using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Server.Web;

/// <summary>What a page or the API shows of one attempt's stream: its lines so far, through the runner's log reader.</summary>
public sealed record JobLogText(string Text, int Lines, int SkippedLines)
{
    /// <summary>What a page shows of a log at most; longer logs show their end, and say how much is left out.</summary>
    public const int MostLines = 20_000;

    public static async Task<JobLogText> ReadAsync(IJobLogReader logs, long batchId, int jobId, int attempt, LogStream stream,
        CancellationToken cancellationToken)
    {
        var kept = new Queue<string>();
        var total = 0;
        await foreach (var line in logs.ReadAsync(batchId, jobId, attempt, stream, cancellationToken))
        {
            total++;
            kept.Enqueue(line);
            if (kept.Count > MostLines) kept.Dequeue();
        }
        var text = new StringBuilder();
        foreach (var line in kept) text.Append(line).Append('\n');
        return new JobLogText(text.ToString(), total, total - kept.Count);
    }
}
