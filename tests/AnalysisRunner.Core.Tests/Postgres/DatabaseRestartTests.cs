using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Postgres;

/// <summary>
/// PostgreSQL restarted under a server that holds pooled connections to it: while it is down every
/// use is DatabaseUnavailable, and once it is back the very next use works (the pool does not hand
/// out the connections that died with it), whether or not anything was tried while it was down.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class DatabaseRestartTests
{
    [BackendFact]
    public async Task The_first_use_after_a_restart_nobody_saw_works()
    {
        await using var cluster = await PostgresCluster.CreateAsync();
        await using var database = new PostgresDatabase(cluster.ConnectionString());
        await FillThePoolAsync(database);

        await cluster.StopAsync("immediate");
        await cluster.StartAsync();

        await database.PingAsync();
    }

    [BackendFact]
    public async Task Every_use_while_it_is_down_is_DatabaseUnavailable_and_the_first_after_works()
    {
        await using var cluster = await PostgresCluster.CreateAsync();
        await using var database = new PostgresDatabase(cluster.ConnectionString());
        await FillThePoolAsync(database);

        await cluster.StopAsync("immediate");
        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => database.PingAsync());
            Assert.Equal(("DatabaseUnavailable", ErrorKind.ResourceUnavailable), (error.ErrorId, error.Kind));
        }
        await cluster.StartAsync();

        await database.PingAsync();
    }

    /// <summary>Several connections open at once, so several idle ones are pooled when they close.</summary>
    private static async Task FillThePoolAsync(PostgresDatabase database)
    {
        var open = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => database.OpenAsync()));
        foreach (var connection in open) await connection.DisposeAsync();
        await database.PingAsync();
    }
}
