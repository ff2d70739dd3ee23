using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
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
public sealed class GetBatchJobLogCommand : RunnerClientCmdlet
{
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

    /// <summary>Lists the job's attempts (number, exit code, start and end, reason) instead of writing a log.</summary>
    [Parameter]
    public SwitchParameter ListAttempts { get; set; }

    protected override void Process()
    {
        var job = GetJob();
        if (ListAttempts)
        {
            WriteObject(Await(Client.GetAttemptsAsync(BatchId, JobId, PipelineStopped)), enumerateCollection: true);
            return;
        }
        var latest = Math.Max(job.Attempt, 1);
        var attempt = Attempt ?? latest;
        if (attempt > latest)
            throw new AnalysisRunnerException("AttemptNotFound", ErrorKind.ObjectNotFound, attempt,
                $"Job {BatchId}/{JobId} has had {job.Attempt} attempt(s); -Attempt takes 1 to {latest}.");
        LogStream[] streams = Stream switch
        {
            JobLogStream.Stdout => [LogStream.Stdout],
            JobLogStream.Stderr => [LogStream.Stderr],
            _ => [LogStream.Stdout, LogStream.Stderr],
        };
        if (Follow && !job.State.IsFinished() && job.State != JobState.Running) SayWaiting(job);
        // -Follow streams the first one as it is written; what follows it is read once the job has ended.
        var lines = Client.ReadLogAsync(BatchId, JobId, attempt, streams[0], Follow, PipelineStopped);
        // The runner records why an attempt could not start in its stderr; the reason line below says it
        // once for every failed job, so the runner's copy of the latest attempt's reason is not repeated.
        var endsWithReason = Stream != JobLogStream.Stdout && attempt == latest;
        foreach (var line in lines.ToBlockingEnumerable(PipelineStopped))
            if (!(endsWithReason && IsRunnersReason(line, job))) WriteObject(line);
        foreach (var stream in streams.Skip(1))
            foreach (var line in Client.ReadLogAsync(BatchId, JobId, attempt, stream, follow: false, PipelineStopped).ToBlockingEnumerable(PipelineStopped))
                if (!(endsWithReason && IsRunnersReason(line, job))) WriteObject(line);
        if (Follow) job = GetJob();
        // Why the latest attempt ended badly is part of its log (for a job that never started, all of it).
        if (endsWithReason && attempt == Math.Max(job.Attempt, 1) && JobOutcome.LogLine(job) is { } why)
            WriteObject(why);
    }

    private JobInfo GetJob() =>
        Await(Client.GetJobsAsync(BatchId, PipelineStopped)).FirstOrDefault(job => job.JobId == JobId)
        ?? throw BatchStoreExtensions.JobNotFound(BatchId, JobId);

    /// <summary>"[runner hh:mm:ss.fff] &lt;the job's reason&gt;", as the local runner writes a start failure.</summary>
    private static bool IsRunnersReason(string line, JobInfo job) =>
        job.Reason is { Length: > 0 } reason && line.StartsWith("[runner ", StringComparison.Ordinal)
        && line.EndsWith("] " + reason, StringComparison.Ordinal);

    /// <summary>-Follow on a job that has not started would otherwise print nothing for as long as it waits.</summary>
    private void SayWaiting(JobInfo job)
    {
        var waitingFor = job.State == JobState.Pending && job.Parents.Count > 0
            ? $"waits for job(s) {string.Join(", ", job.Parents)}"
            : "waits for room on the executor";
        WriteHostLine($"job {job.BatchId}/{job.JobId} '{job.Name}' is {job.State} ({waitingFor}); its log follows once it starts.");
    }
}
