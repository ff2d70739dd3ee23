using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// Keys the runner decides and a user config may not change: they name what the policy gate
/// approved, so overriding them would let a run act as another dataset or access level.
/// </summary>
public static class ProtectedKeys
{
    private static readonly string[] All = ["workflow.access_level", "workflow.dataset"];

    public static IReadOnlyList<string> Keys => All;

    public static void Check(TomlTable userConfig, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(userConfig);
        foreach (var key in All)
        {
            var parts = key.Split('.');
            object current = userConfig;
            for (var i = 0; i < parts.Length; i++)
            {
                if (current is not TomlTable table || !table.TryGetValue(parts[i], out var next)) break;
                var isLast = i == parts.Length - 1;
                // A non-table [workflow] would replace the whole table in the merge, protected keys included.
                if (isLast || next is not TomlTable)
                    throw Refuse(isLast ? key : string.Join('.', parts[..(i + 1)]), key, sourceName);
                current = next;
            }
        }
    }

    private static ConfigException Refuse(string found, string protectedKey, string sourceName) =>
        new("ProtectedConfigKey", ErrorKind.PermissionDenied, sourceName,
            found == protectedKey
                ? $"The config file '{sourceName}' sets '{protectedKey}', which the runner sets from -Dataset and -AccessLevel; remove it from the file."
                : $"The config file '{sourceName}' sets '{found}' to a value that is not a table, which would replace the protected key '{protectedKey}'; make '{found}' a table or remove it.");
}
