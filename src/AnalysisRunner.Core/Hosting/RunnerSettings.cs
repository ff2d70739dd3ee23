using AnalysisRunner.Core.Config;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// Deployment settings from settings.toml in the runner home: which backends, and the executor's limits.
/// Missing keys take the embedded defaults, so an empty or absent file is a working deployment.
/// </summary>
public sealed record RunnerSettings
{
    /// <summary>"local" (a bucket is a folder under the home); "gcs" is described in docs/architecture.md.</summary>
    public string StorageBackend { get; init; } = "local";

    /// <summary>CPU the local executor hands out; defaults to the machine's cores.</summary>
    public double? ExecutorCpus { get; init; }

    /// <summary>Memory the local executor hands out ([executor] memory = "8Gi" or a byte count); defaults to the machine's.</summary>
    public long? ExecutorMemoryBytes { get; init; }

    public static RunnerSettings Load(RunnerHome home)
    {
        if (!File.Exists(home.SettingsPath)) return new RunnerSettings();
        var table = TomlFiles.Read(home.SettingsPath);
        var settings = new RunnerSettings();
        if (table.TryGetValue("storage", out var storage) && storage is TomlTable storageTable
            && storageTable.TryGetValue("backend", out var backend) && backend is string backendName)
            settings = settings with { StorageBackend = backendName };
        if (table.TryGetValue("executor", out var executor) && executor is TomlTable executorTable
            && executorTable.TryGetValue("cpus", out var cpus))
            settings = settings with { ExecutorCpus = Convert.ToDouble(cpus, System.Globalization.CultureInfo.InvariantCulture) };
        if (table.TryGetValue("executor", out var executorMemory) && executorMemory is TomlTable memoryTable
            && memoryTable.TryGetValue("memory", out var memory))
            settings = settings with
            {
                ExecutorMemoryBytes = memory is string text
                    ? Batch.ResourceQuantity.ParseMemory(text)
                    : Convert.ToInt64(memory, System.Globalization.CultureInfo.InvariantCulture),
            };
        return settings;
    }
}
