using System.Management.Automation;
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

    protected IRunnerClient Client => _client ??= RunnerClients.Open(
        RunnerTarget.Choose(Server, RunnerHome, ClientSettings.ForCurrentUser()), _ => Deployment);

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
