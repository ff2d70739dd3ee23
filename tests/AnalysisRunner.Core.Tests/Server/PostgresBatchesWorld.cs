using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// A server over a runner home whose batches are in the server's PostgreSQL database ([batches]
/// database), with the git origin its runs come from: what the server test classes of that mode share.
/// The caller commits its scripts to <see cref="Git"/>, then starts it with the registry's datasets.
/// </summary>
internal sealed class PostgresBatchesWorld(string rootPrefix) : IAsyncDisposable
{
    public GitFixture Git { get; } = new();
    public string Root { get; } = Path.Combine("/tmp", rootPrefix + Guid.NewGuid().ToString("N")[..10]);
    /// <summary>Owns the home: stops the executor the server starts for it, and deletes it.</summary>
    public TestHome? Home { get; private set; }
    public RunningServer? Server { get; private set; }
    public string ConnectionString { get; private set; } = "";

    /// <summary>
    /// Writes the registry (approved images, then <paramref name="datasets"/>' TOML), makes the home and,
    /// where PostgreSQL's binaries are present, a database of its own, the home's [batches] setting
    /// (its connection string followed by <paramref name="connectionSuffix"/>) and the server.
    /// </summary>
    public async Task StartAsync(PostgresFixture postgres, string datasets, string sandbox, string connectionSuffix = "")
    {
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "registry.toml"), """
            default_image = "registry.example.org/approved/driver:1"
            image_prefixes = ["registry.example.org/approved/"]

            """ + datasets);
        Home = new TestHome(Root, sandbox: sandbox);
        if (PostgresCluster.MissingReason is not null) return;
        ConnectionString = await postgres.CreateDatabaseAsync() + connectionSuffix;
        await File.AppendAllTextAsync(Home.Home.SettingsPath, $"\n[batches]\ndatabase = '{ConnectionString}'\n");
        Server = await RunningServer.StartAsync(ConnectionString, null, "--runner:home=" + Root);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        // After the executor (stopped by the home) is done with the database.
        Home?.Dispose();
        if (ConnectionString.Length > 0) await Deployment.CloseBatchDatabaseAsync(ConnectionString);
        Git.Dispose();
    }
}
