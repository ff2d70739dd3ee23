using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// The real Slurm, through its command-line tools on PATH (sbatch, squeue, sacct, scancel, sinfo), as
/// the user the executor runs as. Arguments go to the programs as a list, never through a shell.
/// </summary>
internal sealed class SlurmCli : ISlurmCommands
{
    /// <summary>squeue's fields, '|' after each; the name last, as it is the only one a user's words reach.</summary>
    private const string QueueFormat = "JobID:|,State:|,exit_code:|,Reason:|,Name:|";

    public string Submit(SbatchRequest request)
    {
        var (code, stdout, stderr) = Run("sbatch", ["--parsable", .. request.Options, request.ScriptPath], request.Environment);
        var id = stdout.Trim().Split(';')[0];
        if (code != 0 || id.Length == 0 || !id.All(char.IsAsciiDigit))
        {
            var said = Quote(stderr, stdout);
            throw SlurmTransientErrors.IsTransient(said)
                ? new SlurmCommandException(SlurmTransientErrors.ErrorId, ErrorKind.ResourceUnavailable, request.ScriptPath, $"sbatch could not reach Slurm: {said}")
                : new SlurmCommandException("SlurmSubmitRefused", ErrorKind.InvalidArgument, request.ScriptPath, $"sbatch refused the job: {said}");
        }
        return id;
    }

    public IReadOnlyList<SlurmJobStatus> Queue(string namePrefix)
    {
        var (code, stdout, stderr) = Run("squeue", ["--me", "--states=all", "--noheader", "--Format=" + QueueFormat]);
        if (code != 0)
            throw new SlurmCommandException("SlurmQueryFailed", ErrorKind.ResourceUnavailable, "squeue", $"squeue failed: {Quote(stderr, stdout)}");
        var jobs = new List<SlurmJobStatus>();
        foreach (var line in stdout.Split('\n'))
        {
            var fields = line.Split('|', 5);
            if (fields.Length < 5) continue;
            var name = fields[4].TrimEnd().TrimEnd('|');
            if (!name.StartsWith(namePrefix, StringComparison.Ordinal)) continue;
            jobs.Add(new SlurmJobStatus(fields[0].Trim(), fields[1].Trim(), SlurmJobStates.FromWaitStatus(fields[2]), name, fields[3].Trim()));
        }
        return jobs;
    }

    public SlurmJobStatus? Completed(string jobId)
    {
        // Accounting first; a cluster without it (AccountingStorageType=none) still writes the job-completion file.
        foreach (var arguments in new[] { new[] { "-j", jobId }, ["-c", "-j", jobId] })
        {
            var (code, stdout, _) = Run("sacct", [.. arguments, "--noheader", "--parsable2", "--format=JobID,State,ExitCode,JobName"]);
            if (code != 0) continue;
            foreach (var line in stdout.Split('\n'))
            {
                var fields = line.Split('|', 4);
                if (fields.Length == 4 && fields[0] == jobId)
                    return new SlurmJobStatus(jobId, fields[1], SlurmJobStates.FromCodeAndSignal(fields[2]), fields[3]);
            }
        }
        return null;
    }

    public ProcessUsage? Usage(string jobId)
    {
        // Accounting only: the job-completion file (sacct -c) has no usage.
        var (code, stdout, _) = Run("sacct", ["-j", jobId, "--noheader", "--parsable2", "--format=JobID,TotalCPU,MaxRSS,ElapsedRaw"]);
        return code == 0 ? SlurmUsage.Parse(jobId, stdout) : null;
    }

    public void Cancel(IReadOnlyCollection<string> jobIds)
    {
        if (jobIds.Count == 0) return;
        var (code, stdout, stderr) = Run("scancel", [.. jobIds]);
        if (code != 0)
            throw new SlurmCommandException("SlurmCancelFailed", ErrorKind.ResourceUnavailable, string.Join(',', jobIds),
                $"scancel failed: {Quote(stderr, stdout)}");
    }

    public IReadOnlyList<SlurmNode> Nodes(string? partition)
    {
        string[] arguments = partition is null
            ? ["--noheader", "--Node", "--format=%P|%c|%m|%d|%N"]
            : ["--noheader", "--Node", "--partition=" + partition, "--format=%P|%c|%m|%d|%N"];
        var (code, stdout, stderr) = Run("sinfo", arguments);
        if (code != 0)
            throw new SlurmCommandException("SlurmUnavailable", ErrorKind.ResourceUnavailable, "sinfo", $"sinfo failed: {Quote(stderr, stdout)}");
        var nodes = new List<SlurmNode>();
        foreach (var line in stdout.Split('\n'))
        {
            var f = line.Trim().Split('|');
            if (f.Length != 5) continue;
            // Without a partition named, the default one (marked '*').
            if (partition is null ? !f[0].EndsWith('*') : f[0].TrimEnd('*') != partition) continue;
            if (int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var cpus)
                && long.TryParse(f[2].TrimEnd('+'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var memory))
                nodes.Add(new SlurmNode(f[4], cpus, memory,
                    long.TryParse(f[3].TrimEnd('+'), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tmp) ? tmp : 0));
        }
        if (nodes.Count == 0)
            throw new SlurmCommandException("SlurmPartitionNotFound", ErrorKind.ObjectNotFound, partition ?? "(default)",
                partition is null ? "Slurm has no default partition with nodes (sinfo listed none marked '*'); set [slurm] partition in settings.toml."
                    : $"Slurm has no partition '{partition}' with nodes (sinfo listed none).");
        return nodes;
    }

    private static string Quote(string stderr, string stdout)
    {
        var text = (stderr.Trim().Length > 0 ? stderr : stdout).Trim();
        return text.Length == 0 ? "(it said nothing)" : text.ReplaceLineEndings(" / ");
    }

    private static (int Code, string Stdout, string Stderr) Run(string program, IEnumerable<string> arguments, IReadOnlyList<string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
        {
            start.Environment.Clear();
            foreach (var line in environment)
            {
                var equals = line.IndexOf('=');
                if (equals > 0) start.Environment[line[..equals]] = line[(equals + 1)..];
            }
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception();
        }
        catch (Win32Exception e)
        {
            throw new SlurmCommandException("SlurmUnavailable", ErrorKind.ResourceUnavailable, program,
                $"'{program}' could not be started ({e.Message}): the Slurm client tools must be on the executor's PATH.", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
        }
    }
}
