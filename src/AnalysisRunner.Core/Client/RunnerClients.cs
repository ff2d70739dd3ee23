using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Client;

/// <summary>The one place a target becomes a transport.</summary>
public static class RunnerClients
{
    /// <param name="openDeployment">How the caller opens the runner home (the cmdlets also write the pwsh shim there); only called for an embedded target.</param>
    /// <param name="retry">How a server's 503 answers are waited out (the default policy when null); an embedded home has none.</param>
    public static IRunnerClient Open(RunnerTarget target, Func<RunnerHome, Deployment> openDeployment, ServerRetry? retry = null) => target switch
    {
        RunnerTarget.Remote remote => new HttpRunnerClient(remote.Connection, retry: retry),
        RunnerTarget.Embedded embedded => new InProcessRunnerClient(openDeployment(embedded.Home)),
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };
}
