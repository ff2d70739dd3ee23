namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// What one attempt's process used, as the kernel counted it when it ended (rusage of the job's shell
/// and every descendant it waited for): CPU time (user + system), peak resident memory, and wall time
/// from start to exit. On Slurm, where accounting exists, from sacct (TotalCPU, MaxRSS).
/// </summary>
public sealed record ProcessUsage(double CpuSeconds, long PeakMemoryBytes, double WallSeconds)
{
    /// <summary>From rusage: times in seconds and microseconds, maxrss in KiB (Linux's unit).</summary>
    internal static ProcessUsage FromRusage(in Native.NativeMethods.ResourceUsage usage, double wallSeconds) =>
        new(usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6,
            usage.MaxResidentKilobytes * 1024, wallSeconds);

    /// <summary>The launcher's answer fields: cpu microseconds, maxrss KiB, wall microseconds.</summary>
    internal static ProcessUsage FromLauncher(long cpuMicroseconds, long maxResidentKilobytes, long wallMicroseconds) =>
        new(cpuMicroseconds / 1e6, maxResidentKilobytes * 1024, wallMicroseconds / 1e6);
}
