using System.Globalization;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// What the local runner may hand out at once (each running job reserves its Cpu and MemoryBytes),
/// and the most one job may ask for: this machine, or what the settings or variables say.
/// </summary>
internal static class LocalCapacity
{
    public const string CpuVariable = "AR_EXECUTOR_CPUS";
    public const string MemoryVariable = "AR_EXECUTOR_MEMORY_BYTES";

    /// <summary>
    /// AR_EXECUTOR_CPUS / AR_EXECUTOR_MEMORY_BYTES when set, else settings.toml's [executor] cpus / memory,
    /// else the machine's processors and physical memory.
    /// </summary>
    public static RunnerCapacity Detect(Hosting.RunnerSettings? settings = null)
    {
        var cpu = double.TryParse(Environment.GetEnvironmentVariable(CpuVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var c) && c > 0
            ? c
            : settings?.ExecutorCpus is > 0 and var configuredCpu ? configuredCpu : Environment.ProcessorCount;
        var memory = long.TryParse(Environment.GetEnvironmentVariable(MemoryVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) && m > 0
            ? m
            : settings?.ExecutorMemoryBytes is > 0 and var configuredMemory ? configuredMemory : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return RunnerCapacity.OneMachine(cpu, memory);
    }
}
