using AnalysisRunner.Core;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Server.Hosting;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// The runner home the pages read ([runner] home), opened on first use so a server without one still
/// serves its API; asking for it then is 503 RunnerHomeNotConfigured. With a PostgreSQL database in
/// the settings, runs (audit log, configs) are kept there (PostgresRunLog) and the home's batch store
/// only runs their driver batches; without one, or with [runner] runs = "home", the home's SQLite
/// stays the store of record.
/// </summary>
public sealed class RunnerHomeAccess(ServerSettings settings, PostgresDatabase? database = null)
{
    private readonly Lazy<Deployment> _deployment = new(() => Open(settings, database));

    public Deployment Deployment => _deployment.Value;

    private static Deployment Open(ServerSettings settings, PostgresDatabase? database)
    {
        if (settings.RunnerHome is not { } home)
            throw NotConfigured(settings);
        var deployment = Deployment.Open(new RunnerHome(home));
        // The embedded web (Show-Batch) has no database: the home's own log is the record there.
        if (database is not null && settings.RunsInDatabase && !string.IsNullOrWhiteSpace(settings.ConnectionString))
            deployment.UseRunLog(new PostgresRunLog(database, new HomeDriverBatches(deployment)));
        return deployment;
    }

    private static AnalysisRunnerException NotConfigured(ServerSettings settings) =>
        new("RunnerHomeNotConfigured", ErrorKind.ResourceUnavailable, settings.SettingsFile,
            $"This server reads no runner home, so it has no runs to show; set home under [runner] in {settings.SettingsFile ?? "its settings"}.");
}
