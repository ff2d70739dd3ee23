using System.Globalization;
using System.Text;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// What sbatch gets for one attempt: the script (the job's shell, its variables exported, set -e, its
/// commands) and the options that carry its resources, identity and log files.
/// </summary>
internal static class SlurmJobScript
{
    /// <summary>
    /// The job's variables go into the script, not into sbatch's environment: sbatch reads SBATCH_*
    /// variables as options, and a job's -Environment must never choose its account, partition or QOS.
    /// </summary>
    public static string For(AttemptKey key, string shell, IEnumerable<KeyValuePair<string, string>> variables, string command)
    {
        var script = new StringBuilder();
        script.Append("#!").Append(shell).Append('\n');
        script.Append(CultureInfo.InvariantCulture, $"# AnalysisRunner batch {key.BatchId} job {key.JobId} attempt {key.Attempt}\n");
        foreach (var (name, value) in variables)
        {
            // Submit checks names (ReservedEnvironment); one that got past it fails the job rather than vanish.
            if (!IsVariableName(name))
                throw new AnalysisRunnerException("InvalidEnvironmentName", ErrorKind.InvalidArgument, name,
                    $"Batch {key.BatchId} job {key.JobId} has an environment variable named '{name}'; names are letters, digits and '_', not starting with a digit.");
            script.Append("export ").Append(name).Append('=').Append(ShellQuoting.Quote(value)).Append('\n');
        }
        script.Append("set -e\n").Append(command).Append('\n');
        return script.ToString();
    }

    public static bool IsVariableName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    public static List<string> Options(AttemptLaunch launch, string jobName, string comment, string logStem, string workFolder,
        string? account, string? partition)
    {
        var options = new List<string>
        {
            "--job-name=" + jobName,
            "--comment=" + comment,
            "--output=" + SlurmLayout.Output(logStem, LogStream.Stdout),
            "--error=" + SlurmLayout.Output(logStem, LogStream.Stderr),
            "--open-mode=append",
            "--chdir=" + workFolder,
            "--nodes=1",
            "--ntasks=1",
            "--cpus-per-task=" + Math.Max(1, (int)Math.Ceiling(launch.Cpu - 1e-9)).ToString(CultureInfo.InvariantCulture),
            "--mem=" + Megabytes(launch.MemoryBytes) + "M",
            "--export=ALL",
            launch.Preemptible ? "--requeue" : "--no-requeue",
        };
        if (launch.StorageBytes is { } storage) options.Add("--tmp=" + Megabytes(storage) + "M");
        // Slurm counts time limits in whole minutes; the runner stops the job at its exact -Timeout itself.
        if (launch.Timeout is { } timeout) options.Add("--time=" + Math.Max(1, (long)Math.Ceiling(timeout.TotalMinutes)).ToString(CultureInfo.InvariantCulture));
        if (account is not null) options.Add("--account=" + account);
        if (partition is not null) options.Add("--partition=" + partition);
        return options;
    }

    /// <summary>
    /// What holds a job until its parents end: afterok (afterany for an AlwaysRun job) on their Slurm
    /// ids, and Slurm cancels it itself once they can no longer be satisfied.
    /// </summary>
    public static IEnumerable<string> Dependency(IReadOnlyList<string> parentIds, bool afterAny) =>
        parentIds.Count == 0 ? [] : [$"--dependency={(afterAny ? "afterany" : "afterok")}:{string.Join(':', parentIds)}", "--kill-on-invalid-dep=yes"];

    /// <summary>The --comment: whose run, which batch, job and attempt (readable in squeue -o %k by an operator).</summary>
    public static string Comment(AttemptKey key, string? arGuid)
    {
        var guid = arGuid is null ? "none" : new string(arGuid.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').Take(64).ToArray());
        return string.Create(CultureInfo.InvariantCulture, $"ar_guid={guid} batch={key.BatchId} job={key.JobId} attempt={key.Attempt}");
    }

    private static string Megabytes(long bytes) =>
        Math.Max(1, (long)Math.Ceiling(bytes / (1024.0 * 1024.0))).ToString(CultureInfo.InvariantCulture);
}
