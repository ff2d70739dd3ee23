namespace AnalysisRunner.Core.Postgres;

/// <summary>
/// One step of the PostgreSQL schema. Applied once, in its own transaction, recorded in
/// schema_version. Never edit a migration that has shipped: add the next one.
/// </summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// The server's schema, in order. Each store adds its tables as the next version here (the audit
/// log, batches and the job ledger come next), so every server reaches the same schema the same way.
/// </summary>
public static class ServerSchema
{
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "api tokens", """
            CREATE TABLE api_tokens (
                id text PRIMARY KEY,
                token_hash text NOT NULL UNIQUE,
                user_email text NOT NULL,
                is_admin boolean NOT NULL,
                description text,
                created_at timestamptz NOT NULL,
                created_by text,
                expires_at timestamptz,
                revoked_at timestamptz,
                last_used_at timestamptz
            );
            CREATE INDEX api_tokens_user ON api_tokens (user_email, created_at);
            """),
    ];
}
