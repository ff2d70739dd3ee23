using System.Globalization;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>A stretch of one log lane: from Start to End (null: to the end of the file, the attempt still writing).</summary>
internal readonly record struct LaneRange(int Lane, long Start, long? End)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Lane}@{Start}{(End is { } end ? "-" + end : "")}");

    public static LaneRange Parse(string text)
    {
        var at = text.IndexOf('@');
        var dash = text.IndexOf('-', at + 1);
        var lane = int.Parse(text.AsSpan(0, at), CultureInfo.InvariantCulture);
        var start = long.Parse(dash < 0 ? text.AsSpan(at + 1) : text.AsSpan(at + 1, dash - at - 1), CultureInfo.InvariantCulture);
        long? end = dash < 0 ? null : long.Parse(text.AsSpan(dash + 1), CultureInfo.InvariantCulture);
        return new LaneRange(lane, start, end);
    }
}

/// <summary>
/// Where one attempt's output is on the local runner: its stdout and stderr each a stretch of a log
/// lane, stored with the attempt as "3@1024-2048 4@0-17" (lane@start-end, stdout then stderr).
/// </summary>
internal readonly record struct LaneLog(LaneRange Stdout, LaneRange Stderr)
{
    public override string ToString() => Stdout + " " + Stderr;

    public LaneRange this[LogStream stream] => stream == LogStream.Stdout ? Stdout : Stderr;

    public static LaneLog? TryParse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var space = text.IndexOf(' ');
        try { return new LaneLog(LaneRange.Parse(text[..space]), LaneRange.Parse(text[(space + 1)..])); }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException or OverflowException) { return null; }
    }
}
