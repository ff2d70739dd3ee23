using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tokens;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Tokens;

[Collection(PostgresCollection.Name)]
public sealed class SqliteTokenStoreContractTests : TokenStoreContract, IDisposable
{
    private readonly TempFolder _folder = new("ar-tokens");
    private readonly RunnerDatabase _database;

    public SqliteTokenStoreContractTests() => _database = new RunnerDatabase(new RunnerHome(_folder.Path));

    protected override Task<ITokenStore> OpenStoreAsync(TimeProvider clock) => Task.FromResult<ITokenStore>(new SqliteTokenStore(_database, clock));

    protected override Task<IReadOnlyList<string>> ReadStoredValuesAsync()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM api_tokens";
        return Task.FromResult(ReadValues(command.ExecuteReader()));
    }

    internal static IReadOnlyList<string> ReadValues(System.Data.Common.DbDataReader reader)
    {
        var values = new List<string>();
        using (reader)
            while (reader.Read())
                for (var i = 0; i < reader.FieldCount; i++)
                    values.Add(Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "");
        return values;
    }

    [Fact]
    public async Task The_home_database_file_holds_no_secret()
    {
        var issued = await new SqliteTokenStore(_database, Clock).IssueAsync(new TokenRequest { User = "alice@lab.org" });
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_folder.Path, "runner.db*"))
            Assert.DoesNotContain(issued.Token[TokenSecret.Prefix.Length..], File.ReadAllText(file));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}

[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class PostgresTokenStoreContractTests(PostgresFixture postgres) : TokenStoreContract, IAsyncLifetime
{
    private PostgresDatabase? _database;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _database = new PostgresDatabase(await postgres.CreateDatabaseAsync());
        await new SchemaMigrator(_database).ApplyAsync(ServerSchema.Migrations);
    }

    protected override Task<ITokenStore> OpenStoreAsync(TimeProvider clock) => Task.FromResult<ITokenStore>(new PostgresTokenStore(_database!, clock));

    protected override async Task<IReadOnlyList<string>> ReadStoredValuesAsync()
    {
        await using var connection = await _database!.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM api_tokens", connection);
        return SqliteTokenStoreContractTests.ReadValues(await command.ExecuteReaderAsync());
    }

    public async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
