using AnalysisRunner.Core.Hosting;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// Tokens in the runner home's SQLite database (embedded deployments). Whoever can write the home
/// can write this table, so on the embedded default the home's owner is the admin. Times are unix
/// milliseconds.
/// </summary>
internal sealed class SqliteTokenStore(RunnerDatabase database, TimeProvider? clock = null) : ITokenStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS api_tokens (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_email TEXT NOT NULL,
            is_admin INTEGER NOT NULL,
            description TEXT,
            created_at_ms INTEGER NOT NULL,
            created_by TEXT,
            expires_at_ms INTEGER,
            revoked_at_ms INTEGER,
            last_used_at_ms INTEGER
        );
        CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_email, created_at_ms);
        """;

    private const string Columns = "id, user_email, is_admin, description, created_at_ms, created_by, expires_at_ms, revoked_at_ms, last_used_at_ms";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private DateTimeOffset Now => TokenRules.Truncate(_clock.GetUtcNow());

    public async Task<IssuedToken> IssueAsync(TokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = TokenRules.NormalizeUser(request.User);
        var now = Now;
        TokenRules.CheckExpiry(request.ExpiresAt, now);
        var secret = TokenSecret.New();
        var id = TokenSecret.NewId();
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO api_tokens (id, token_hash, user_email, is_admin, description, created_at_ms, created_by, expires_at_ms)
            VALUES ($id, $hash, $user, $admin, $description, $created, $createdBy, $expires)
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$hash", TokenSecret.Hash(secret));
        command.Parameters.AddWithValue("$user", user);
        command.Parameters.AddWithValue("$admin", request.Admin ? 1 : 0);
        command.Parameters.AddWithValue("$description", (object?)request.Description ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$createdBy", (object?)request.CreatedBy ?? DBNull.Value);
        command.Parameters.AddWithValue("$expires", (object?)request.ExpiresAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new IssuedToken
        {
            Id = id, User = user, Token = secret, Admin = request.Admin,
            ExpiresAt = request.ExpiresAt is { } e ? TokenRules.Truncate(e) : null,
        };
    }

    public async Task<TokenInfo> AuthenticateAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(secret)) throw TokenAuthenticationException.Missing();
        if (!TokenSecret.HasSecretShape(secret)) throw TokenAuthenticationException.Invalid();
        var now = Now;
        await using var connection = Open();
        var token = await ReadOneAsync(connection, "token_hash = $key", TokenSecret.Hash(secret), now, cancellationToken)
            ?? throw TokenAuthenticationException.Invalid();
        TokenRules.EnsureUsable(token);
        if (TokenRules.ShouldRecordUse(token, now))
        {
            await using var touch = connection.CreateCommand();
            touch.CommandText = "UPDATE api_tokens SET last_used_at_ms = $now WHERE id = $id";
            touch.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            touch.Parameters.AddWithValue("$id", token.Id);
            await touch.ExecuteNonQueryAsync(cancellationToken);
            token = token with { LastUsedAt = now };
        }
        return token;
    }

    public async Task<TokenInfo?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        return await ReadOneAsync(connection, "id = $key", id, Now, cancellationToken);
    }

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(TokenQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var now = Now;
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.User is not null)
        {
            where.Add("user_email = $user");
            command.Parameters.AddWithValue("$user", TokenRules.NormalizeUser(query.User));
        }
        if (!query.IncludeInactive)
        {
            where.Add("revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > $now)");
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        }
        command.CommandText = $"SELECT {Columns} FROM api_tokens {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} " +
                              "ORDER BY created_at_ms DESC, id";
        return await ReadAllAsync(command, now, cancellationToken);
    }

    public async Task<TokenInfo> RevokeAsync(string id, CancellationToken cancellationToken = default)
    {
        var now = Now;
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_tokens SET revoked_at_ms = coalesce(revoked_at_ms, $now) WHERE id = $id";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return await ReadOneAsync(connection, "id = $key", id, now, cancellationToken) ?? throw TokenErrors.NotFound(id);
    }

    public async Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(string user, CancellationToken cancellationToken = default)
    {
        var normalized = TokenRules.NormalizeUser(user);
        var now = Now;
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE api_tokens SET revoked_at_ms = $now WHERE user_email = $user AND revoked_at_ms IS NULL " +
                              $"AND (expires_at_ms IS NULL OR expires_at_ms > $now) RETURNING {Columns}";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$user", normalized);
        var revoked = await ReadAllAsync(command, now, cancellationToken);
        return revoked.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal).ToList();
    }

    private SqliteConnection Open()
    {
        database.EnsureSchema("api_tokens", Schema);
        return database.Open();
    }

    private static async Task<TokenInfo?> ReadOneAsync(SqliteConnection connection, string condition, string key, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM api_tokens WHERE {condition}";
        command.Parameters.AddWithValue("$key", key);
        return (await ReadAllAsync(command, now, cancellationToken)).SingleOrDefault();
    }

    private static async Task<List<TokenInfo>> ReadAllAsync(SqliteCommand command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tokens = new List<TokenInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            DateTimeOffset? Time(int column) => reader.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(column));
            var token = new TokenInfo
            {
                Id = reader.GetString(0),
                User = reader.GetString(1),
                Admin = reader.GetInt64(2) != 0,
                Description = reader.IsDBNull(3) ? null : reader.GetString(3),
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                CreatedBy = reader.IsDBNull(5) ? null : reader.GetString(5),
                ExpiresAt = Time(6),
                RevokedAt = Time(7),
                LastUsedAt = Time(8),
            };
            tokens.Add(token with { State = token.StateAt(now) });
        }
        return tokens;
    }
}
