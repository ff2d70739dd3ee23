using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Postgres;

[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class SchemaMigratorTests(PostgresFixture postgres) : IAsyncLifetime
{
    private static readonly Migration One = new(1, "a", "CREATE TABLE a (x int)");
    private static readonly Migration Two = new(2, "b", "CREATE TABLE b (x int); INSERT INTO b VALUES (1)");
    private PostgresDatabase? _database;
    private PostgresDatabase Database => _database!;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is null) _database = new PostgresDatabase(await postgres.CreateDatabaseAsync());
    }

    public async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }

    private async Task<List<(int, string)>> VersionsAsync()
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version, name FROM schema_version ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetInt32(0), reader.GetString(1)));
        return rows;
    }

    private async Task<bool> TableExistsAsync(string name)
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection) { Parameters = { new() { Value = name } } };
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    [BackendFact]
    public async Task Pending_migrations_apply_in_order_once_and_a_second_start_applies_none()
    {
        var migrator = new SchemaMigrator(Database);
        Assert.Equal(0, migrator.CurrentVersion());
        Assert.Equal([1], await migrator.ApplyAsync([One]));
        Assert.Equal([2], await migrator.ApplyAsync([One, Two]));
        Assert.Empty(await migrator.ApplyAsync([One, Two]));
        Assert.Equal([(1, "a"), (2, "b")], await VersionsAsync());
        Assert.Equal(2, migrator.CurrentVersion());
    }

    [BackendFact]
    public async Task A_failing_migration_leaves_neither_its_changes_nor_its_version()
    {
        var broken = new Migration(2, "broken", "CREATE TABLE b (x int); INSERT INTO b VALUES ('not a number')");
        var migrator = new SchemaMigrator(Database);

        await Assert.ThrowsAsync<PostgresException>(() => migrator.ApplyAsync([One, broken]));

        Assert.Equal([(1, "a")], await VersionsAsync());
        Assert.True(await TableExistsAsync("a"));
        Assert.False(await TableExistsAsync("b"));
        Assert.Equal([2], await migrator.ApplyAsync([One, Two]));
    }

    [BackendFact]
    public async Task Servers_starting_together_apply_each_migration_once()
    {
        var starts = Enumerable.Range(0, 4).Select(_ => Task.Run(() => new SchemaMigrator(Database).ApplyAsync([One, Two]))).ToList();
        var applied = await Task.WhenAll(starts);
        Assert.Equal([1, 2], applied.SelectMany(versions => versions).Order());
        Assert.Equal([(1, "a"), (2, "b")], await VersionsAsync());
    }

    [BackendFact]
    public async Task A_database_newer_than_the_server_is_refused()
    {
        await new SchemaMigrator(Database).ApplyAsync([One, Two]);
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => new SchemaMigrator(Database).ApplyAsync([One]));
        Assert.Equal("SchemaTooNew", error.ErrorId);
        Assert.Equal(2, error.Target);
    }

    [BackendFact]
    public async Task The_servers_schema_migrates_from_empty()
    {
        Assert.Equal(Enumerable.Range(1, ServerSchema.Migrations.Count), await new SchemaMigrator(Database).ApplyAsync(ServerSchema.Migrations));
        Assert.True(await TableExistsAsync("api_tokens"));
    }

    [Fact]
    public async Task Migrations_must_be_numbered_from_one_without_gaps()
    {
        await using var nowhere = new PostgresDatabase("Host=127.0.0.1;Port=1");
        await Assert.ThrowsAsync<ArgumentException>(() => new SchemaMigrator(nowhere).ApplyAsync([Two]));
        await Assert.ThrowsAsync<ArgumentException>(() => new SchemaMigrator(nowhere).ApplyAsync([One, One]));
    }
}
