using System.Globalization;
using System.Text.RegularExpressions;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Hail-style resource requests as users type them. Memory and storage take a number with an
/// optional unit: binary (Ki, Mi, Gi, Ti, Pi = powers of 1024) or decimal (K, M, G, T, P = powers
/// of 1000), an optional trailing 'B', case-insensitive; a bare number is bytes. Memory also takes
/// the Hail worker names lowmem, standard and highmem, which here mean 1, 4 and 8 GiB per cpu
/// (round numbers, not Hail's 0.9/3.75/6.5, so a local executor's arithmetic stays legible).
/// </summary>
public static partial class ResourceQuantity
{
    public const double MaxCpu = 64;

    /// <summary>GiB per cpu for lowmem / standard / highmem.</summary>
    public static readonly IReadOnlyDictionary<string, long> MemoryPerCpu = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase)
    {
        ["lowmem"] = 1L << 30,
        ["standard"] = 4L << 30,
        ["highmem"] = 8L << 30,
    };

    private const string MemoryExamples = "'4Gi', '4G', '500Mi', '1.5Gi', '1073741824' (bytes), or lowmem / standard / highmem (1 / 4 / 8 GiB per cpu)";
    private const string StorageExamples = "'10Gi', '10G', '500Mi', '1.5Ti', '1073741824' (bytes)";
    private const string CpuExamples = "'0.25', '1', '2', '16', '250m' (up to 64)";

    [GeneratedRegex(@"^(?<number>\d+(?:\.\d+)?)\s*(?<unit>[KMGTP]i?)?B?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QuantityPattern();

    [GeneratedRegex(@"^(?<number>\d+(?:\.\d+)?)(?<milli>m)?$", RegexOptions.CultureInvariant)]
    private static partial Regex CpuPattern();

    /// <summary>Memory in bytes; lowmem/standard/highmem are taken for one cpu.</summary>
    public static long ParseMemory(string value) => ParseMemory(value, cpu: 1);

    /// <summary>Memory in bytes; lowmem/standard/highmem scale with <paramref name="cpu"/>.</summary>
    public static long ParseMemory(string value, double cpu)
    {
        var trimmed = value?.Trim() ?? "";
        if (MemoryPerCpu.TryGetValue(trimmed, out var perCpu))
        {
            if (!(cpu > 0) || cpu > MaxCpu)
                throw Invalid("InvalidMemory", value, $"Memory '{value}' scales with cpu, and cpu {cpu} is not between 0 and {MaxCpu}.");
            return (long)Math.Ceiling(perCpu * (decimal)cpu);
        }
        return ParseBytes(trimmed, value, "InvalidMemory", "Memory", MemoryExamples);
    }

    public static long ParseStorage(string value) =>
        ParseBytes(value?.Trim() ?? "", value, "InvalidStorage", "Storage", StorageExamples);

    public static double ParseCpu(string value)
    {
        var match = CpuPattern().Match(value?.Trim() ?? "");
        if (match.Success
            && decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            var cpu = (double)(match.Groups["milli"].Success ? number / 1000 : number);
            if (cpu > 0 && cpu <= MaxCpu) return cpu;
        }
        throw Invalid("InvalidCpu", value, $"Cpu '{value}' is not a positive number of cores up to {MaxCpu}; for example {CpuExamples}.");
    }

    /// <summary>For display: the largest binary unit that is at least 1, with up to two decimals ("1.5Gi", "500Mi", "1000").</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
        var magnitude = Math.Abs((decimal)bytes);
        if (magnitude < 1024) return bytes.ToString(CultureInfo.InvariantCulture);
        decimal scale = 1;
        var unit = -1;
        while (unit + 1 < units.Length && magnitude >= scale * 1024)
        {
            scale *= 1024;
            unit++;
        }
        var scaled = Math.Round(bytes / scale, 2, MidpointRounding.AwayFromZero);
        return scaled.ToString("0.##", CultureInfo.InvariantCulture) + units[unit];
    }

    private static long ParseBytes(string trimmed, string? original, string errorId, string what, string examples)
    {
        var match = QuantityPattern().Match(trimmed);
        if (match.Success
            && decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            var multiplier = Multiplier(match.Groups["unit"].Value);
            try
            {
                var bytes = Math.Ceiling(number * multiplier);
                if (bytes > 0 && bytes <= long.MaxValue) return (long)bytes;
            }
            catch (OverflowException)
            {
                // Falls through to the refusal below: too large to be a byte count.
            }
        }
        throw Invalid(errorId, original, $"{what} '{original}' is not a positive size; for example {examples}.");
    }

    private static decimal Multiplier(string unit)
    {
        if (unit.Length == 0) return 1;
        var power = "KMGTP".IndexOf(char.ToUpperInvariant(unit[0])) + 1;
        decimal radix = unit.Length == 2 ? 1024 : 1000;
        decimal multiplier = 1;
        for (var i = 0; i < power; i++) multiplier *= radix;
        return multiplier;
    }

    private static AnalysisRunnerException Invalid(string errorId, string? value, string message) =>
        new(errorId, ErrorKind.InvalidArgument, value, message);
}
