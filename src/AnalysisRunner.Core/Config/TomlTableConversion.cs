using Tomlyn;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// TOML values as plain .NET values (ordered case-sensitive dictionaries, object arrays,
/// DateTimeOffset) so the PowerShell layer can build PSCustomObjects without knowing Tomlyn.
/// </summary>
public static class TomlTableConversion
{
    public static object? ToPlain(object? tomlValue) => tomlValue switch
    {
        null => null,
        TomlTable table => ToDictionary(table),
        TomlTableArray tables => tables.Select(t => (object?)ToDictionary(t)).ToArray(),
        TomlArray array => array.Select(ToPlain).ToArray(),
        TomlDateTime dateTime => dateTime.Kind is TomlDateTimeKind.OffsetDateTimeByZ or TomlDateTimeKind.OffsetDateTimeByNumber
            ? dateTime.DateTime
            : dateTime.ToString(),
        _ => tomlValue,
    };

    private static Dictionary<string, object?> ToDictionary(TomlTable table)
    {
        // Dictionary keeps insertion order while nothing is removed, which is all this one does.
        var result = new Dictionary<string, object?>(table.Count, StringComparer.Ordinal);
        foreach (var (key, value) in table) result[key] = ToPlain(value);
        return result;
    }
}
