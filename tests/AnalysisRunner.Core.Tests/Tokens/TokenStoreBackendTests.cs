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
    // The home whose run-token key seals the rows, as the server's [runner] home does.
    private readonly TempFolder _home = new("ar-token-key");
    private PostgresDatabase? _database;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _database = new PostgresDatabase(await postgres.CreateDatabaseAsync());
        await new SchemaMigrator(_database).ApplyAsync(ServerSchema.Migrations);
    }

    protected override Task<ITokenStore> OpenStoreAsync(TimeProvider clock) => Task.FromResult<ITokenStore>(Open(clock));

    private PostgresTokenStore Open(TimeProvider clock) => new(_database!, TokenRowSeal.WithKeyOf(new RunnerHome(_home.Path)), clock);

    protected override async Task<IReadOnlyList<string>> ReadStoredValuesAsync()
    {
        await using var connection = await _database!.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM api_tokens", connection);
        return SqliteTokenStoreContractTests.ReadValues(await command.ExecuteReaderAsync());
    }

    /// <summary>What a job that reaches the database does: any statement, as the server's role.</summary>
    private async Task ExecuteAsync(string sql, params object?[] values)
    {
        await using var connection = await _database!.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
    }

    private static async Task AssertUnknownAsync(ITokenStore store, string secret)
    {
        var error = await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(secret));
        Assert.Equal(TokenAuthenticationException.Invalid().ErrorId, error.ErrorId);
        Assert.Equal(TokenAuthenticationException.Invalid().Message, error.Message);
    }

    [BackendFact]
    public async Task A_token_row_written_into_the_database_for_an_admin_does_not_authenticate()
    {
        var store = Open(Clock);
        var presented = new List<string>();
        store.UnsealedTokenPresented += token => presented.Add(token.Id);
        var real = await store.IssueAsync(new TokenRequest { User = "root@lab.org", Admin = true });
        var secret = TokenSecret.New();
        // Without a seal, and with the seal of a real admin token (it covers that row's id and hash, not these).
        await ExecuteAsync("""
            INSERT INTO api_tokens (id, token_hash, user_email, is_admin, created_at, seal)
            VALUES ('00000000000000aa', $1, 'root@lab.org', true, now(), NULL)
            """, TokenSecret.Hash(secret));
        var copied = TokenSecret.New();
        await ExecuteAsync("""
            INSERT INTO api_tokens (id, token_hash, user_email, is_admin, created_at, seal)
            SELECT '00000000000000bb', $1, user_email, is_admin, created_at, seal FROM api_tokens WHERE id = $2
            """, TokenSecret.Hash(copied), real.Id);

        await AssertUnknownAsync(store, secret);
        await AssertUnknownAsync(store, copied);
        Assert.Equal(["00000000000000aa", "00000000000000bb"], presented);
        Assert.Equal(TokenState.Active, (await store.AuthenticateAsync(real.Token)).State);

        // Listed only with the inactive tokens, and marked; revoking one marks it revoked but never seals it.
        Assert.Equal([real.Id], (await store.ListAsync(new TokenQuery())).Select(t => t.Id));
        var all = await store.ListAsync(new TokenQuery { IncludeInactive = true });
        Assert.Equal(TokenState.Unsealed, all.Single(t => t.Id == "00000000000000aa").State);
        Assert.Equal(TokenState.Unsealed, (await store.RevokeAsync("00000000000000aa")).State);
        await ExecuteAsync("UPDATE api_tokens SET revoked_at = NULL WHERE id = '00000000000000aa'");
        Assert.Equal(TokenState.Unsealed, (await store.FindAsync("00000000000000aa"))!.State);
        await AssertUnknownAsync(store, secret);
        Assert.Equal([real.Id], (await store.RevokeUserAsync("root@lab.org")).Select(t => t.Id));
    }

    [BackendFact]
    public async Task A_revoked_token_whose_revocation_is_cleared_in_the_database_does_not_authenticate()
    {
        var store = Open(Clock);
        var one = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        var all1 = await store.IssueAsync(new TokenRequest { User = "bob@lab.org" });
        var all2 = await store.IssueAsync(new TokenRequest { User = "bob@lab.org", Admin = true });
        await store.RevokeAsync(one.Id);
        await store.RevokeUserAsync("bob@lab.org");

        await ExecuteAsync("UPDATE api_tokens SET revoked_at = NULL");

        foreach (var token in new[] { one, all1, all2 }) await AssertUnknownAsync(store, token.Token);
        Assert.All(await store.ListAsync(new TokenQuery { IncludeInactive = true }), t => Assert.Equal(TokenState.Unsealed, t.State));
    }

    [BackendFact]
    public async Task A_token_made_admin_given_a_later_expiry_or_another_user_in_the_database_does_not_authenticate()
    {
        var store = Open(Clock);
        // An expiry off the millisecond grid (the store keeps milliseconds): what is sealed is what PostgreSQL gives back.
        var issued = await store.IssueAsync(new TokenRequest
        {
            User = "alice@lab.org", ExpiresAt = Clock.GetUtcNow().AddHours(1).AddTicks(1234567),
        });
        Assert.Equal("alice@lab.org", (await store.AuthenticateAsync(issued.Token)).User);

        foreach (var (change, undo) in new[]
                 {
                     ("is_admin = true", "is_admin = false"),
                     ("expires_at = expires_at + interval '1 year'", "expires_at = expires_at - interval '1 year'"),
                     ("expires_at = NULL", $"expires_at = '{issued.ExpiresAt!.Value.UtcDateTime:O}'"),
                     ("user_email = 'root@lab.org'", "user_email = 'alice@lab.org'"),
                     ("created_at = created_at - interval '1 day'", "created_at = created_at + interval '1 day'"),
                 })
        {
            await ExecuteAsync($"UPDATE api_tokens SET {change} WHERE id = $1", issued.Id);
            await AssertUnknownAsync(store, issued.Token);
            await ExecuteAsync($"UPDATE api_tokens SET {undo} WHERE id = $1", issued.Id);
            Assert.Equal(issued.Id, (await store.AuthenticateAsync(issued.Token)).Id);
        }

        Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal("TokenExpired", (await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(issued.Token))).ErrorId);
    }

    [BackendFact]
    public async Task Tokens_issued_before_rows_were_sealed_stop_working_and_are_listed_as_unsealed()
    {
        await using var earlier = new PostgresDatabase(await postgres.CreateDatabaseAsync());
        await new SchemaMigrator(earlier).ApplyAsync(ServerSchema.Migrations.Take(5).ToList());
        var secret = TokenSecret.New();
        await using (var connection = await earlier.OpenAsync())
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO api_tokens (id, token_hash, user_email, is_admin, created_at) VALUES ('0123456789abcdef', $1, 'alice@lab.org', false, now())
            """, connection))
        {
            insert.Parameters.AddWithValue(TokenSecret.Hash(secret));
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal([6], await new SchemaMigrator(earlier).ApplyAsync(ServerSchema.Migrations));
        var store = new PostgresTokenStore(earlier, TokenRowSeal.WithKeyOf(new RunnerHome(_home.Path)), Clock);

        await AssertUnknownAsync(store, secret);
        Assert.Empty(await store.ListAsync(new TokenQuery()));
        Assert.Equal(TokenState.Unsealed, (await store.ListAsync(new TokenQuery { IncludeInactive = true })).Single().State);
    }

    [BackendFact]
    public async Task Without_a_key_rows_are_neither_sealed_nor_checked()
    {
        var store = new PostgresTokenStore(_database!, TokenRowSeal.Unkeyed, Clock);
        var issued = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        Assert.Equal(issued.Id, (await store.AuthenticateAsync(issued.Token)).Id);
        // The same rows under a key are not the server's.
        await AssertUnknownAsync(Open(Clock), issued.Token);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        _home.Dispose();
    }
}
