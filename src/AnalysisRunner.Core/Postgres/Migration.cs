namespace AnalysisRunner.Core.Postgres;

/// <summary>
/// One step of the PostgreSQL schema. Applied once, in its own transaction, recorded in
/// schema_version. Never edit a migration that has shipped: add the next one.
/// </summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// The server's schema, in order. Each store adds its tables as the next version here, so every
/// server (and every runner home whose batches are in PostgreSQL) reaches the same schema the same way.
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
        // The run store (PostgresRunLog): the hash-chained audit log, each run's config, and the outbox
        // of driver batches still to create in the runner home (run_dispatch.driver_batch_id null).
        new(2, "run store", """
            CREATE TABLE audit_log (
                id bigserial PRIMARY KEY,
                ar_guid text NOT NULL UNIQUE,
                timestamp_ms bigint NOT NULL,
                user_email text NOT NULL,
                dataset text NOT NULL,
                access_level text NOT NULL,
                entry text NOT NULL,
                prev_hash text NOT NULL,
                entry_hash text NOT NULL
            );
            CREATE INDEX audit_log_timestamp ON audit_log (timestamp_ms, id);
            CREATE INDEX audit_log_dataset_timestamp ON audit_log (dataset, timestamp_ms, id);
            CREATE INDEX audit_log_user_timestamp ON audit_log (user_email, timestamp_ms, id);
            CREATE TABLE run_configs (
                ar_guid text PRIMARY KEY REFERENCES audit_log (ar_guid),
                toml text NOT NULL
            );
            CREATE TABLE run_dispatch (
                ar_guid text PRIMARY KEY REFERENCES audit_log (ar_guid),
                driver_batch text NOT NULL,
                driver_batch_id bigint,
                dispatched_at timestamptz
            );
            CREATE INDEX run_dispatch_pending ON run_dispatch (ar_guid) WHERE driver_batch_id IS NULL;
            """),
        // Clients' idempotency keys, one per run, scoped per user (written with the audit row); and a run
        // cancelled before its driver batch was made, which the dispatcher then never makes.
        new(3, "submission keys and cancelled dispatch", """
            CREATE TABLE run_keys (
                user_email text NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                ar_guid text NOT NULL UNIQUE REFERENCES audit_log (ar_guid),
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (user_email, key)
            );
            ALTER TABLE run_dispatch ADD COLUMN cancelled_at timestamptz;
            """),
        // Batches, jobs and attempts (PostgresBatchStore, and the executor's PostgresJobLedger), for a
        // runner home whose settings name this database in [batches] database: SqliteBatchStore's tables.
        new(4, "batches and the job ledger", """
            CREATE TABLE batches (
                id bigserial PRIMARY KEY,
                name text NOT NULL,
                ar_guid text,
                attributes text NOT NULL,
                config_path text,
                tmp_root text NOT NULL,
                spec text NOT NULL,
                state text NOT NULL,
                cancel_requested boolean NOT NULL DEFAULT false,
                created timestamptz NOT NULL,
                completed timestamptz,
                total_jobs integer NOT NULL
            );
            CREATE INDEX batches_ar_guid ON batches (ar_guid, id);
            CREATE INDEX batches_state ON batches (state, id);
            CREATE TABLE jobs (
                batch_id bigint NOT NULL REFERENCES batches (id),
                job_id integer NOT NULL,
                name text NOT NULL,
                state text NOT NULL,
                attempt integer NOT NULL,
                max_attempts integer NOT NULL,
                exit_code integer,
                started timestamptz,
                ended timestamptz,
                command text NOT NULL,
                parents text NOT NULL,
                reason text,
                cpu double precision NOT NULL,
                memory bigint NOT NULL,
                image text,
                always_run boolean NOT NULL,
                preemptible boolean NOT NULL,
                attributes text NOT NULL,
                spec text NOT NULL,
                PRIMARY KEY (batch_id, job_id)
            );
            CREATE TABLE attempts (
                batch_id bigint NOT NULL,
                job_id integer NOT NULL,
                attempt integer NOT NULL,
                started timestamptz,
                ended timestamptz,
                exit_code integer,
                reason text,
                log text,
                cpu_seconds double precision,
                peak_memory_bytes bigint,
                wall_seconds double precision,
                PRIMARY KEY (batch_id, job_id, attempt)
            );
            """),
        // Rows only the runner's key seals are rows the executor runs and the dispatcher dispatches
        // (BatchRowSeal, RunEntrySeal); rows written before this have no seal and are refused like forged
        // ones, so migrate with no run waiting for its batch and no batch running.
        new(5, "sealed runs, batches and jobs", """
            ALTER TABLE audit_log ADD COLUMN seal text;
            ALTER TABLE run_dispatch ADD COLUMN seal text;
            ALTER TABLE batches ADD COLUMN seal text;
            ALTER TABLE jobs ADD COLUMN seal text;
            """),
        // Token rows only the runner's key seals are tokens the server accepts (PostgresTokenStore, TokenRowSeal).
        // Tokens issued before this have no seal and stop working at once (refused like unknown ones, listed as
        // Unsealed): admins issue them again. They are not sealed here or on start: the key is not in the
        // database, and a row a job wrote before this looks like any other.
        new(6, "sealed api tokens", """
            ALTER TABLE api_tokens ADD COLUMN seal text;
            """),
    ];
}
