using AnalysisRunner.Core.Config;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// The run a process belongs to, read back from its config (CPG_CONFIG_PATH inside a job), so a
/// script's New-Batch needs no arguments: it inherits the run's ar_guid, tmp bucket and attributes.
/// </summary>
public sealed record RunContext(string ConfigPath, string? ArGuid, string? TmpBucket, IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>The run's driver image ([workflow] driver_image): what a job of the run that names no image runs in.</summary>
    public string? Image { get; init; }

    public const string ConfigPathVariable = "CPG_CONFIG_PATH";

    /// <summary>The run of this process, if CPG_CONFIG_PATH names one; <paramref name="readConfig"/> reads local or gs:// configs.</summary>
    public static RunContext? FromEnvironment(Func<string, TomlTable>? readConfig = null)
    {
        var path = Environment.GetEnvironmentVariable(ConfigPathVariable);
        return string.IsNullOrWhiteSpace(path) ? null : FromConfig(path, readConfig);
    }

    public static RunContext FromConfig(string path, Func<string, TomlTable>? readConfig = null)
    {
        var config = (readConfig ?? TomlFiles.Read)(path);
        var workflow = config.TryGetValue("workflow", out var w) && w is TomlTable wt ? wt : new TomlTable();
        string? Workflow(string key) => workflow.TryGetValue(key, out var value) ? value?.ToString() : null;

        var attributes = new Dictionary<string, string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) attributes[name] = value;
        }
        Add("ar_guid", Workflow("ar_guid"));
        Add("author", Workflow("user"));
        Add("dataset", Workflow("dataset"));
        Add("access_level", Workflow("access_level"));
        Add("repository", Workflow("repository"));
        Add("commit", Workflow("commit"));

        string? tmp = null;
        if (config.TryGetValue("storage", out var s) && s is TomlTable storage
            && storage.TryGetValue("default", out var d) && d is TomlTable defaults
            && defaults.TryGetValue("tmp", out var t))
            tmp = t?.ToString();
        return new RunContext(path.Contains("://", StringComparison.Ordinal) ? path : Path.GetFullPath(path), Workflow("ar_guid"), tmp, attributes)
        {
            Image = Workflow("driver_image"),
        };
    }
}
