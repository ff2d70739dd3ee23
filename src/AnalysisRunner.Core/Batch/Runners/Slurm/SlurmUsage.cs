using System.Globalization;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// Reads what a job used from `sacct -j ID --parsable2 --format=JobID,TotalCPU,MaxRSS,ElapsedRaw`:
/// TotalCPU of the job's own line ([DD-][HH:]MM:SS[.mmm], user + system of all its steps), the largest
/// MaxRSS of its steps (with K/M/G/T suffixes, KiB without), ElapsedRaw (seconds) of the job's line.
/// Null when the job's line is missing or its TotalCPU or every MaxRSS is unreadable.
/// </summary>
internal static class SlurmUsage
{
    public static ProcessUsage? Parse(string jobId, string sacct)
    {
        double? cpu = null, wall = null;
        long? peak = null;
        foreach (var line in sacct.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('|');
            if (fields.Length < 4) continue;
            var id = fields[0];
            if (id == jobId)
            {
                cpu = Duration(fields[1]);
                wall = double.TryParse(fields[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
            }
            if ((id == jobId || id.StartsWith(jobId + ".", StringComparison.Ordinal)) && Size(fields[2]) is { } rss)
                peak = Math.Max(peak ?? 0, rss);
        }
        return cpu is { } used && peak is { } most ? new ProcessUsage(used, most, wall ?? 0) : null;
    }

    /// <summary>[DD-][HH:]MM:SS[.fff] in seconds.</summary>
    private static double? Duration(string text)
    {
        var days = 0;
        var rest = text.Trim();
        if (rest.IndexOf('-') is var dash and > 0)
        {
            if (!int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out days)) return null;
            rest = rest[(dash + 1)..];
        }
        var parts = rest.Split(':');
        if (parts.Length is < 2 or > 3) return null;
        double total = 0;
        foreach (var part in parts[..^1])
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var whole)) return null;
            total = total * 60 + whole;
        }
        if (!double.TryParse(parts[^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var secondsPart)) return null;
        return days * 86400 + total * 60 + secondsPart;
    }

    /// <summary>MaxRSS: a number of KiB, or with a K, M, G or T suffix (binary).</summary>
    private static long? Size(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        var unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 0 };
        var number = unit == 0 ? text : text[..^1];
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)) return null;
        return (long)Math.Round(value * (unit == 0 ? 1024 : unit));
    }
}
