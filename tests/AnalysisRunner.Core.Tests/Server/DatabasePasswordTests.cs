using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// The server will not serve over a database that lets anyone in as its role: a job that reaches
/// PostgreSQL (shared network, a Slurm node) would otherwise mint tokens for any user. This class
/// starts a cluster of its own that trusts everyone; the shared clusters ask for a password.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class DatabasePasswordTests(PostgresFixture postgres) : IAsyncLifetime
{
    private PostgresCluster? _trusting;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _trusting = await PostgresCluster.CreateAsync(asksForPassword: false);
    }

    public async Task DisposeAsync()
    {
        if (_trusting is not null) await _trusting.DisposeAsync();
    }

    [BackendFact]
    public async Task The_server_refuses_to_start_over_a_database_that_accepts_any_password()
    {
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => RunningServer.StartAsync(_trusting!.ConnectionString()));

        Assert.Equal(("DatabaseAcceptsAnyPassword", ErrorKind.PermissionDenied), (error.ErrorId, error.Kind));
        Assert.Contains($"127.0.0.1:{_trusting!.Port}", error.Message);
        Assert.Contains("allow_without_password", error.Message);
    }

    [BackendFact]
    public async Task An_admin_who_says_no_job_can_reach_the_database_may_start_it_anyway()
    {
        await using var server = await RunningServer.StartAsync(_trusting!.ConnectionString(), null, "--database:allow_without_password=true");

        using var client = server.Client();
        Assert.True((await client.GetAsync(Http.ApiRoutes.Health)).IsSuccessStatusCode);
    }

    [BackendFact]
    public async Task A_database_that_asks_for_the_password_is_told_apart_from_one_that_does_not()
    {
        var asking = await postgres.CreateDatabaseAsync();

        Assert.False(await PasswordDemand.AcceptsAnyPasswordAsync(asking));
        Assert.True(await PasswordDemand.AcceptsAnyPasswordAsync(_trusting!.ConnectionString()));
        // The right password still works: the probe changes nothing for the server's own connections.
        await using var database = new PostgresDatabase(asking);
        await database.PingAsync();
    }
}
