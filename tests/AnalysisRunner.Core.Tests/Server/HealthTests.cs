using System.Net;
using System.Net.Http.Json;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// /healthz follows PostgreSQL: 503 with a clear problem while it is down, 200 again as soon as it
/// is back, with no restart of the server. This class stops and starts a cluster of its own.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class HealthTests : IAsyncLifetime
{
    private PostgresCluster? _cluster;
    private RunningServer? _server;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _cluster = await PostgresCluster.CreateAsync();
        _server = await RunningServer.StartAsync(await _cluster.CreateDatabaseAsync());
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    [BackendFact]
    public async Task Health_is_503_while_PostgreSQL_is_down_and_recovers_by_itself()
    {
        var alice = await _server!.IssueAsync("alice@lab.org");
        using var anonymous = _server.Client();
        using var client = new RunnerHttpClient(new ServerConnection(_server.Address, alice.Token));

        var healthy = await anonymous.GetFromJsonAsync<HealthReport>(ApiRoutes.Health, ApiJson.Options);
        Assert.Equal("healthy", healthy!.Status);
        Assert.Equal("reachable", healthy.Database);
        Assert.Equal("alice@lab.org", (await client.WhoAmIAsync()).User);

        // Several connections at once, so the pool holds more than one that will die with the server.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.WhoAmIAsync()));

        await _cluster!.StopAsync();

        using (var down = await anonymous.GetAsync(ApiRoutes.Health))
        {
            var problem = await ProblemAssert.IsProblemAsync(down, 503, "DatabaseUnavailable", ErrorKind.ResourceUnavailable);
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.StartsWith("PostgreSQL, the server's database, is not reachable", detail);
            // Anyone may ask /healthz: where the database is stays in the server's log.
            Assert.DoesNotContain(_cluster.Port.ToString(), detail);
            Assert.False(problem.TryGetProperty("target", out _));
            // It passes by itself: the answer says when to ask again.
            Assert.Equal(TimeSpan.FromSeconds(1), down.Headers.RetryAfter?.Delta);
        }
        // An authenticated call needs the token store: 503 too, not 401 (the token is fine) or 500.
        var error = await Assert.ThrowsAsync<ServerProblemException>(() => client.WhoAmIAsync());
        Assert.Equal(("DatabaseUnavailable", ErrorKind.ResourceUnavailable, 503), (error.ErrorId, error.Kind, error.Status));
        Assert.Equal("DatabaseUnavailable", (await Assert.ThrowsAsync<ServerProblemException>(() => client.GetHealthAsync())).ErrorId);

        await _cluster.StartAsync();

        // Nothing was restarted: the first request after PostgreSQL is back is served.
        using (var up = await anonymous.GetAsync(ApiRoutes.Health)) Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        Assert.Equal("alice@lab.org", (await client.WhoAmIAsync()).User);
    }
}
