using System.Globalization;

namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>One attempt of one job: what a runner starts, stops and reports on.</summary>
internal readonly record struct AttemptKey(long BatchId, int JobId, int Attempt)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"batch {BatchId} job {JobId} attempt {Attempt}");
}
