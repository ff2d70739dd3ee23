using System.Globalization;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// settings.toml's [slurm] table, read when [executor] runner = "slurm":
/// <code>
/// [slurm]
/// partition = "short"        # default: the cluster's default partition
/// account = "dataset"        # "dataset" (the default: the dataset pays), "none", or one account for every job
/// poll_seconds = 1           # how often squeue is asked about the runner's jobs
/// submit_parallel = 4        # sbatch calls at once
/// dependencies = true       # submit a job as soon as its parents are submitted, with --dependency (false: once they succeeded)
/// submit_retries = 5         # further sbatch tries when Slurm cannot be reached (never after a refusal)
/// submit_retry_seconds = 1   # the first wait before one; it doubles each time, to 30 s at most
/// </code>
/// </summary>
public sealed record SlurmSettings
{
    public const string DatasetAccount = "dataset";
    public const string NoAccount = "none";

    public string? Partition { get; init; }
    public string Account { get; init; } = DatasetAccount;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    public int SubmitParallel { get; init; } = 4;
    public int SubmitRetries { get; init; } = 5;
    public bool Dependencies { get; init; } = true;
    public TimeSpan SubmitRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public static SlurmSettings Read(TomlTable? table)
    {
        var settings = new SlurmSettings();
        if (table is null) return settings;
        if (table.TryGetValue("partition", out var partition) && partition is string p && p.Length > 0) settings = settings with { Partition = p };
        if (table.TryGetValue("account", out var account) && account is string a && a.Length > 0) settings = settings with { Account = a };
        if (table.TryGetValue("poll_seconds", out var poll))
            settings = settings with { PollInterval = TimeSpan.FromSeconds(Math.Max(0.05, Convert.ToDouble(poll, CultureInfo.InvariantCulture))) };
        if (table.TryGetValue("submit_parallel", out var parallel))
            settings = settings with { SubmitParallel = Math.Clamp(Convert.ToInt32(parallel, CultureInfo.InvariantCulture), 1, 64) };
        if (table.TryGetValue("dependencies", out var dependencies))
            settings = settings with { Dependencies = Convert.ToBoolean(dependencies, CultureInfo.InvariantCulture) };
        if (table.TryGetValue("submit_retries", out var retries))
            settings = settings with { SubmitRetries = Math.Clamp(Convert.ToInt32(retries, CultureInfo.InvariantCulture), 0, 20) };
        if (table.TryGetValue("submit_retry_seconds", out var retryDelay))
            settings = settings with { SubmitRetryDelay = TimeSpan.FromSeconds(Math.Clamp(Convert.ToDouble(retryDelay, CultureInfo.InvariantCulture), 0.01, 30)) };
        return settings;
    }

    /// <summary>The --account for a job of <paramref name="dataset"/>: the dataset itself, none, or the one configured.</summary>
    public string? AccountFor(string? dataset) => Account switch
    {
        DatasetAccount => string.IsNullOrEmpty(dataset) ? null : dataset,
        NoAccount => null,
        _ => Account,
    };
}
