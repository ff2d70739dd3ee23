using AnalysisRunner.Core.Postgres;
using Npgsql;

namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// Tokens in the server's PostgreSQL database (table api_tokens, migration 1 of <see cref="ServerSchema"/>).
/// Only the server and its local admin command reach this database, so only they are admins of it.
/// </summary>
public sealed class PostgresTokenStore(PostgresDatabase database, TimeProvider? clock = null) : ITokenStore
{
    private const string Columns = "id, user_email, is_admin, description, created_at, created_by, expires_at, revoked_at, last_used_at";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private DateTimeOffset Now => TokenRules.Truncate(_clock.GetUtcNow());

    public Task<IssuedToken> IssueAsync(TokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = TokenRules.NormalizeUser(request.User);
        var now = Now;
        TokenRules.CheckExpiry(request.ExpiresAt, now);
        var expires = request.ExpiresAt is { } e ? TokenRules.Truncate(e) : (DateTimeOffset?)null;
        var secret = TokenSecret.New();
        var id = TokenSecret.NewId();
        return database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO api_tokens (id, token_hash, user_email, is_admin, description, created_at, created_by, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash WHERE api_tokens.token_hash = EXCLUDED.token_hash
                """, connection);
            // RunAsync runs this again after a connection lost mid-way, and the row (this id, this secret's
            // hash) may be there from the first try: that is this token, issued once. Another token's id is not.
            Add(command, id, TokenSecret.Hash(secret), user, request.Admin, request.Description, now, request.CreatedBy, expires);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
                throw new InvalidOperationException($"A token with id {id} already exists; issue the token again.");
            return new IssuedToken { Id = id, User = user, Token = secret, Admin = request.Admin, ExpiresAt = expires };
        }, cancellationToken);
    }

    public async Task<TokenInfo> AuthenticateAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(secret)) throw TokenAuthenticationException.Missing();
        if (!TokenSecret.HasSecretShape(secret)) throw TokenAuthenticationException.Invalid();
        var now = Now;
        return await database.RunAsync(async connection =>
        {
            var token = await ReadOneAsync(connection, "token_hash", TokenSecret.Hash(secret), now, cancellationToken)
                ?? throw TokenAuthenticationException.Invalid();
            TokenRules.EnsureUsable(token);
            if (TokenRules.ShouldRecordUse(token, now))
            {
                await using var touch = new NpgsqlCommand("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", connection);
                Add(touch, now, token.Id);
                await touch.ExecuteNonQueryAsync(cancellationToken);
                token = token with { LastUsedAt = now };
            }
            return token;
        }, cancellationToken);
    }

    public Task<TokenInfo?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        var now = Now;
        return database.RunAsync(connection => ReadOneAsync(connection, "id", id, now, cancellationToken), cancellationToken);
    }

    public Task<IReadOnlyList<TokenInfo>> ListAsync(TokenQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var user = query.User is null ? null : TokenRules.NormalizeUser(query.User);
        var now = Now;
        return database.RunAsync<IReadOnlyList<TokenInfo>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"""
                SELECT {Columns} FROM api_tokens
                WHERE ($1::text IS NULL OR user_email = $1)
                  AND ($2 OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)))
                ORDER BY created_at DESC, id
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = user, DataTypeName = "text" });
            Add(command, query.IncludeInactive, now);
            return await ReadAllAsync(command, now, cancellationToken);
        }, cancellationToken);
    }

    public Task<TokenInfo> RevokeAsync(string id, CancellationToken cancellationToken = default)
    {
        var now = Now;
        return database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING {Columns}", connection);
            Add(command, now, id);
            return (await ReadAllAsync(command, now, cancellationToken)).SingleOrDefault() ?? throw TokenErrors.NotFound(id);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(string user, CancellationToken cancellationToken = default)
    {
        var normalized = TokenRules.NormalizeUser(user);
        var now = Now;
        return database.RunAsync<IReadOnlyList<TokenInfo>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"""
                UPDATE api_tokens SET revoked_at = $1
                WHERE user_email = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
                RETURNING {Columns}
                """, connection);
            // Run again after a connection lost mid-way (RunAsync), the answer lists only what the second try revoked: the tokens are revoked either way.
            Add(command, now, normalized);
            var revoked = await ReadAllAsync(command, now, cancellationToken);
            return revoked.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal).ToList();
        }, cancellationToken);
    }

    private static async Task<TokenInfo?> ReadOneAsync(NpgsqlConnection connection, string column, string key, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM api_tokens WHERE {column} = $1", connection);
        Add(command, key);
        return (await ReadAllAsync(command, now, cancellationToken)).SingleOrDefault();
    }

    private static async Task<List<TokenInfo>> ReadAllAsync(NpgsqlCommand command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tokens = new List<TokenInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            DateTimeOffset? Time(int column) => reader.IsDBNull(column) ? null : reader.GetFieldValue<DateTimeOffset>(column);
            var token = new TokenInfo
            {
                Id = reader.GetString(0),
                User = reader.GetString(1),
                Admin = reader.GetBoolean(2),
                Description = reader.IsDBNull(3) ? null : reader.GetString(3),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(4),
                CreatedBy = reader.IsDBNull(5) ? null : reader.GetString(5),
                ExpiresAt = Time(6),
                RevokedAt = Time(7),
                LastUsedAt = Time(8),
            };
            tokens.Add(token with { State = token.StateAt(now) });
        }
        return tokens;
    }

    /// <summary>Positional parameters; DateTimeOffsets go in as UTC (timestamptz takes no other offset).</summary>
    private static void Add(NpgsqlCommand command, params object?[] values)
    {
        foreach (var value in values)
            command.Parameters.Add(new NpgsqlParameter
            {
                Value = value switch
                {
                    null => DBNull.Value,
                    DateTimeOffset time => time.ToUniversalTime(),
                    _ => value,
                },
            });
    }
}
