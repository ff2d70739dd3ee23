using System.Management.Automation;
using System.Threading.Channels;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Client;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// What the cmdlets that reach runs and batches share: one <see cref="IRunnerClient"/>, picked once
/// per command by <see cref="RunnerTarget.Choose"/> (-Server, -RunnerHome, AR_SERVER, the server
/// Set-AnalysisRunnerServer stored, else the runner home). They call it and never ask which it is.
/// </summary>
public abstract class RunnerClientCmdlet : AnalysisRunnerCmdlet
{
    private IRunnerClient? _client;

    /// <summary>A server address; the token sent is AR_TOKEN or the one Set-AnalysisRunnerServer stored for that server.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary>What the client says while it waits out a server's 503s; told on its own thread, shown on the pipeline's by Await.</summary>
    private readonly Channel<ServerRetryNotice> _retries = Channel.CreateUnbounded<ServerRetryNotice>();

    protected IRunnerClient Client => _client ??= RunnerClients.Open(
        RunnerTarget.Choose(Server, RunnerHome, ClientSettings.ForCurrentUser()), _ => Deployment,
        ServerRetry.FromEnvironment() with { Notify = notice => _retries.Writer.TryWrite(notice) });

    /// <summary>
    /// While Await waits: the client's retry notices are shown (progress and verbose), since only the
    /// pipeline's thread may write them.
    /// </summary>
    protected override void WhileWaiting(Task task)
    {
        ProgressRecord? progress = null;
        while (true)
        {
            while (_retries.Reader.TryRead(out var notice))
            {
                WriteVerbose(notice.Message);
                progress ??= new ProgressRecord(RetryActivityId, "Waiting for the AnalysisRunner server", "503");
                progress.StatusDescription = notice.Message;
                progress.PercentComplete = notice.Budget > TimeSpan.Zero
                    ? (int)Math.Clamp(100 * (notice.Waited + notice.Delay) / notice.Budget, 0, 100) : -1;
                WriteProgress(progress);
            }
            if (task.IsCompleted) break;
            Task.WaitAny(task, _retries.Reader.WaitToReadAsync().AsTask());
        }
        if (progress is null) return;
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }

    private const int RetryActivityId = 503;

    /// <summary>
    /// After a wait: each batch that failed or was cancelled is a non-terminating error naming its
    /// failed jobs and why (the batch as TargetObject), so $? and -ErrorAction Stop see it.
    /// </summary>
    protected void WriteFailuresOf(IEnumerable<BatchInfo> batches)
    {
        foreach (var batch in batches)
            if (Await(Client.FailureOfAsync(batch, PipelineStopped)) is { } failure)
                WriteError(ToErrorRecord(failure));
    }

    protected override void EndProcessing()
    {
        _client?.Dispose();
        base.EndProcessing();
    }
}
