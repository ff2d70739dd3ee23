using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// Where the module's commands go, decided once per command the way PSResourceGet picks a backend
/// per repository: an explicit -Server, else an explicit -RunnerHome (embedded), else AR_SERVER,
/// else the server Set-AnalysisRunnerServer stored, else the embedded runner home.
/// </summary>
public abstract record RunnerTarget
{
    private RunnerTarget() { }

    public sealed record Embedded(RunnerHome Home) : RunnerTarget;

    public sealed record Remote(ServerConnection Connection) : RunnerTarget;

    public static RunnerTarget Choose(string? server, string? runnerHome, ClientSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(server)) return new Remote(settings.Resolve(server)!);
        if (!string.IsNullOrWhiteSpace(runnerHome)) return new Embedded(RunnerHome.Resolve(runnerHome));
        return settings.Resolve() is { } connection ? new Remote(connection) : new Embedded(RunnerHome.Resolve());
    }
}
