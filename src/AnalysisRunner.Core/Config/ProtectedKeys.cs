using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// Keys the runner decides and a user config may not change: every key of the runner's baseline
/// (RunConfigBuilder.Baseline). They name what the policy gate approved and what the audit log
/// records: overriding them would let a run's config contradict its log entry, claim another
/// identity, commit or image, write outside its output prefix, or point at other buckets.
/// "storage" is protected whole: every [storage.*] table holds bucket locations the runner derives.
/// </summary>
internal static class ProtectedKeys
{
    private static readonly string[] All =
    [
        "workflow.ar_guid", "workflow.access_level", "workflow.dataset", "workflow.output_prefix",
        "workflow.driver_image", "workflow.description", "workflow.user", "workflow.repository", "workflow.commit",
        "hail.billing_project", "hail.bucket",
        "storage",
    ];

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
                ? $"The config file '{sourceName}' sets '{protectedKey}', which the runner derives for every run (see about_AnalysisRunner, THE RUN CONFIG); remove it from the file."
                : $"The config file '{sourceName}' sets '{found}' to a value that is not a table, which would replace the protected key '{protectedKey}'; make '{found}' a table or remove it.");
}
