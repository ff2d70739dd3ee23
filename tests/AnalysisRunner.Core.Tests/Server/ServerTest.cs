using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>A test class with the real server over a fresh database of the shared cluster (none when PostgreSQL is missing: its facts are skipped).</summary>
public abstract class ServerTest(PostgresFixture postgres) : IAsyncLifetime
{
    private RunningServer? _server;

    protected RunningServer Server => _server!;

    /// <summary>The server's clock; the real one unless a class moves time by hand.</summary>
    protected virtual TimeProvider? Clock => null;

    /// <summary>--section:key=value settings for the server.</summary>
    protected virtual string[] Settings => [];

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _server = await RunningServer.StartAsync(await postgres.CreateDatabaseAsync(), Clock, Settings);
        await OnStartedAsync();
    }

    protected virtual Task OnStartedAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
