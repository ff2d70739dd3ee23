using AnalysisRunner.Core;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Server.Hosting;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// The runner home the pages read ([runner] home), opened on first use so a server without one still
/// serves its API; asking for it then is 503 RunnerHomeNotConfigured.
/// </summary>
public sealed class RunnerHomeAccess(ServerSettings settings)
{
    private readonly Lazy<Deployment> _deployment = new(() => Open(settings));

    public Deployment Deployment => _deployment.Value;

    private static Deployment Open(ServerSettings settings) =>
        settings.RunnerHome is { } home
            ? Deployment.Open(new RunnerHome(home))
            : throw new AnalysisRunnerException("RunnerHomeNotConfigured", ErrorKind.ResourceUnavailable, settings.SettingsFile,
                $"This server reads no runner home, so it has no runs to show; set home under [runner] in {settings.SettingsFile ?? "its settings"}.");
}
