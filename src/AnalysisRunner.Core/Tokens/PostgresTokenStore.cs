using AnalysisRunner.Core.Postgres;
using Npgsql;

namespace AnalysisRunner.Core.Tokens;

/// <summary>
/// Tokens in the server's PostgreSQL database (table api_tokens, migrations 1 and 6 of <see cref="ServerSchema"/>).
/// Only the server and its local admin command reach this database by design, so only they are admins of it;
/// in case something else does (a job, where PostgreSQL asks no password), each row carries a seal
/// (<see cref="TokenRowSeal"/>) written on issue and on every revocation, and a row whose seal does not
/// hold never authenticates: it answers like an unknown token (TokenInvalid), is listed only with
/// the inactive tokens, as <see cref="TokenState.Unsealed"/>, and is reported through <see cref="UnsealedTokenPresented"/>.
/// Limit (see TokenRowSeal): a row saved before its token was revoked and written back works again.
/// </summary>
public sealed class PostgresTokenStore(PostgresDatabase database, TokenRowSeal seal, TimeProvider? clock = null) : ITokenStore
{
    private const string Columns = "id, user_email, is_admin, description, created_at, created_by, expires_at, revoked_at, last_used_at, token_hash, seal";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private DateTimeOffset Now => TokenRules.Truncate(_clock.GetUtcNow());

    /// <summary>A secret matched a row whose seal does not hold (refused as unknown); the server logs it.</summary>
    public event Action<TokenInfo>? UnsealedTokenPresented;

    public Task<IssuedToken> IssueAsync(TokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = TokenRules.NormalizeUser(request.User);
        var now = Now;
        TokenRules.CheckExpiry(request.ExpiresAt, now);
        var expires = request.ExpiresAt is { } e ? TokenRules.Truncate(e) : (DateTimeOffset?)null;
        var secret = TokenSecret.New();
        var id = TokenSecret.NewId();
        var hash = TokenSecret.Hash(secret);
        var rowSeal = seal.Of(new TokenInfo { Id = id, User = user, Admin = request.Admin, CreatedAt = now, ExpiresAt = expires }, hash);
        return database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO api_tokens (id, token_hash, user_email, is_admin, description, created_at, created_by, expires_at, seal)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash WHERE api_tokens.token_hash = EXCLUDED.token_hash
                """, connection);
            // RunAsync runs this again after a connection lost mid-way, and the row (this id, this secret's
            // hash) may be there from the first try: that is this token, issued once. Another token's id is not.
            Add(command, id, hash, user, request.Admin, request.Description, now, request.CreatedBy, expires, rowSeal);
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
            if (token.State == TokenState.Unsealed) UnsealedTokenPresented?.Invoke(token);
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
            // The query cannot tell a row the server sealed: one that is not works no more than a revoked one.
            var tokens = (await ReadAllAsync(command, now, cancellationToken)).Select(stored => stored.Token);
            return tokens.Where(token => query.IncludeInactive || token.State == TokenState.Active).ToList();
        }, cancellationToken);
    }

    public Task<TokenInfo> RevokeAsync(string id, CancellationToken cancellationToken = default)
    {
        var now = Now;
        return database.RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM api_tokens WHERE id = $1 FOR UPDATE", connection, transaction);
            Add(command, id);
            var stored = (await ReadAllAsync(command, now, cancellationToken)).SingleOrDefault() ?? throw TokenErrors.NotFound(id);
            var revoked = await RevokeAsync(connection, transaction, [stored], now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return revoked.Single();
        }, cancellationToken);
    }

    public Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(string user, CancellationToken cancellationToken = default)
    {
        var normalized = TokenRules.NormalizeUser(user);
        var now = Now;
        return database.RunAsync<IReadOnlyList<TokenInfo>>(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"""
                SELECT {Columns} FROM api_tokens
                WHERE user_email = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                FOR UPDATE
                """, connection, transaction);
            // Run again after a connection lost mid-way (RunAsync), the answer lists only what the second try revoked: the tokens are revoked either way.
            Add(command, normalized, now);
            // A row without the seal is no working token (nothing to revoke), and revoking it must not seal it.
            var working = (await ReadAllAsync(command, now, cancellationToken)).Where(stored => stored.Token.State == TokenState.Active).ToList();
            var revoked = await RevokeAsync(connection, transaction, working, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return revoked.OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal).ToList();
        }, cancellationToken);
    }

    /// <summary>
    /// Marks rows read FOR UPDATE revoked (keeping an earlier revocation's time) and seals each again over its
    /// revocation, in the caller's transaction. A row whose seal did not hold is marked but keeps its old seal:
    /// revoking must not make a forged row the server's.
    /// </summary>
    private async Task<List<TokenInfo>> RevokeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<StoredToken> rows, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var revoked = rows.Select(row =>
        {
            var token = row.Token with { RevokedAt = row.Token.RevokedAt ?? now };
            return row.Token.State == TokenState.Unsealed
                ? row with { Token = token }
                : row with { Token = token with { State = token.StateAt(now) }, Seal = seal.Of(token, row.TokenHash) };
        }).ToList();
        await using var command = new NpgsqlCommand("""
            UPDATE api_tokens SET revoked_at = revoked.at, seal = revoked.seal
            FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS revoked (id, at, seal)
            WHERE api_tokens.id = revoked.id
            """, connection, transaction);
        Add(command, revoked.Select(row => row.Token.Id).ToArray(), revoked.Select(row => row.Token.RevokedAt!.Value.ToUniversalTime()).ToArray(),
            revoked.Select(row => row.Seal).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
        return revoked.Select(row => row.Token).ToList();
    }

    private async Task<TokenInfo?> ReadOneAsync(NpgsqlConnection connection, string column, string key, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM api_tokens WHERE {column} = $1", connection);
        Add(command, key);
        return (await ReadAllAsync(command, now, cancellationToken)).SingleOrDefault()?.Token;
    }

    /// <summary>A row as read: the token (its state <see cref="TokenState.Unsealed"/> unless its seal holds), and what the seal covers beside it.</summary>
    private sealed record StoredToken(TokenInfo Token, string TokenHash, string? Seal);

    private async Task<List<StoredToken>> ReadAllAsync(NpgsqlCommand command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tokens = new List<StoredToken>();
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
            var hash = reader.GetString(9);
            var stored = reader.IsDBNull(10) ? null : reader.GetString(10);
            var state = seal.Holds(token, hash, stored) ? token.StateAt(now) : TokenState.Unsealed;
            tokens.Add(new StoredToken(token with { State = state }, hash, stored));
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
