using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using JobState = AnalysisRunner.Core.Batch.JobState;

namespace AnalysisRunner.PowerShell.Commands;

public enum JobLogStream
{
    All,
    Stdout,
    Stderr,
}

/// <summary>Writes a job's output lines (stdout, then stderr); -Follow streams a running job until it ends.</summary>
[Cmdlet(VerbsCommon.Get, "BatchJobLog")]
[OutputType(typeof(string), typeof(JobAttempt))]
public sealed class GetBatchJobLogCommand : AnalysisRunnerCmdlet
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public long BatchId { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public int JobId { get; set; }

    /// <summary>Which attempt (1 is the first); defaults to the latest.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Attempt { get; set; }

    [Parameter]
    public JobLogStream Stream { get; set; } = JobLogStream.All;

    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>Lists the job's attempts (number, exit code, log paths) instead of writing a log.</summary>
    [Parameter]
    public SwitchParameter ListAttempts { get; set; }

    protected override void Process()
    {
        if (ListAttempts)
        {
            WriteObject(Deployment.Batches.GetAttempts(BatchId, JobId), enumerateCollection: true);
            return;
        }
        Deployment.Batches.RequireBatch(BatchId);
        var job = Deployment.Batches.GetJob(BatchId, JobId)
            ?? throw new AnalysisRunnerException("JobNotFound", ErrorKind.ObjectNotFound, $"{BatchId}/{JobId}",
                $"Batch {BatchId} has no job {JobId}; Get-BatchJob -BatchId {BatchId} lists its jobs.");
        var attempt = Attempt ?? Math.Max(job.Attempt, 1);
        if (attempt > Math.Max(job.Attempt, 1))
            throw new AnalysisRunnerException("AttemptNotFound", ErrorKind.ObjectNotFound, attempt,
                $"Job {BatchId}/{JobId} has had {job.Attempt} attempt(s); -Attempt takes 1 to {Math.Max(job.Attempt, 1)}.");
        var paths = Deployment.Batches.GetLogPaths(BatchId, JobId, attempt);
        if (Follow)
        {
            if (!job.State.IsFinished() && job.State != JobState.Running) SayWaiting(job);
            FollowUntilFinished(Stream == JobLogStream.Stderr ? paths.Stderr : paths.Stdout);
            if (Stream == JobLogStream.All) WriteLines(paths.Stderr);
            job = Deployment.Batches.GetJob(BatchId, JobId) ?? job;
        }
        else
        {
            if (Stream != JobLogStream.Stderr) WriteLines(paths.Stdout);
            if (Stream != JobLogStream.Stdout) WriteLines(paths.Stderr);
        }
        // Why the latest attempt ended badly is part of its log (for a job that never started, all of it).
        if (Stream != JobLogStream.Stdout && attempt == Math.Max(job.Attempt, 1) && JobOutcome.LogLine(job) is { } why)
            WriteObject(why);
    }

    /// <summary>-Follow on a job that has not started would otherwise print nothing for as long as it waits.</summary>
    private void SayWaiting(JobInfo job)
    {
        var waitingFor = job.State == JobState.Pending && job.Parents.Count > 0
            ? $"waits for job(s) {string.Join(", ", job.Parents)}"
            : "waits for room on the executor";
        WriteHostLine($"job {job.BatchId}/{job.JobId} '{job.Name}' is {job.State} ({waitingFor}); its log follows once it starts.");
    }

    private void WriteLines(string path)
    {
        if (!File.Exists(path)) return;
        using var reader = OpenShared(path);
        while (reader.ReadLine() is { } line) WriteObject(line);
    }

    /// <summary>Tails one log file while the job runs, then drains what is left once it has finished.</summary>
    private void FollowUntilFinished(string path)
    {
        StreamReader? reader = null;
        var partial = "";
        try
        {
            while (true)
            {
                var finished = Deployment.Batches.GetJob(BatchId, JobId) is { } job && job.State.IsFinished();
                if (reader is null && File.Exists(path)) reader = OpenShared(path);
                if (reader is not null)
                {
                    var chunk = partial + reader.ReadToEnd();
                    var lines = chunk.Split('\n');
                    partial = lines[^1];
                    foreach (var line in lines[..^1]) WriteObject(line);
                }
                if (finished)
                {
                    if (partial.Length > 0) WriteObject(partial);
                    return;
                }
                if (Stopping) return;
                Thread.Sleep(FollowInterval);
            }
        }
        finally
        {
            reader?.Dispose();
        }
    }

    private static StreamReader OpenShared(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
}
