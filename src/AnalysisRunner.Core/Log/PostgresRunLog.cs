using System.Runtime.CompilerServices;
using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Runs;
using Npgsql;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The server's run store in PostgreSQL (migration 2 of <see cref="ServerSchema"/>). One transaction
/// writes the audit row, the config text and the run's dispatch row (run_dispatch); appends take a
/// transaction-scoped advisory lock before reading the chain's head, so concurrent appends (from any
/// number of server processes) queue and the chain never forks.
/// <para>
/// When the executor's batches are in this same database (<see cref="IDriverBatchTarget.InDatabase"/>),
/// the driver batch is written in that transaction too, and the dispatch row records it: the run is
/// logged with its batch or not at all. Otherwise the dispatch row is an outbox ("driver batch to
/// create"): after the commit a dispatcher hands it to the executor's batch store (idempotent by
/// ar_guid) and records the batch id; <see cref="DispatchPendingAsync"/> does the same for every row a
/// crash left between the two (the server calls it on start).
/// </para>
/// <para>
/// The driver batch does not exist when the entry is sealed, so the entry's hash covers DriverBatchId 0
/// and <see cref="ReadChainAsync"/> yields entries as sealed; queries fill in the dispatched batch id
/// (0 until dispatched), which is a pointer kept beside the entry, not part of it.
/// </para>
/// </summary>
public sealed class PostgresRunLog(PostgresDatabase database, IDriverBatchTarget driverBatches) : IRunLog
{
    // Any fixed number, the same for every server of this schema: the chain head's pg_advisory_xact_lock key.
    private const long ChainLockKey = 0x4152_4155_4449_5431; // "ARAUDIT1"
    private const int ChunkSize = 200;
    private const string Selected = "a.id, a.entry, a.prev_hash, a.entry_hash, d.driver_batch_id, a.seal";

    /// <summary>A committed run whose driver batch could not be created now; it stays pending for <see cref="DispatchPendingAsync"/>.</summary>
    public event Action<RunRecord, Exception>? DispatchFailed;

    public async Task<RunRecord> AppendAsync(RunSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (submission.DriverBatch.ArGuid != submission.Run.ArGuid)
            throw new ArgumentException($"The driver batch is of run {submission.DriverBatch.ArGuid}, not {submission.Run.ArGuid}.", nameof(submission));
        // Hashed as it will read back: milliseconds, no batch yet, no page address.
        var run = submission.Run with
        {
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(submission.Run.Timestamp.ToUnixTimeMilliseconds()).ToOffset(submission.Run.Timestamp.Offset),
            DriverBatchId = 0,
            PreviousHash = null,
            EntryHash = null,
            Url = null,
        };
        var driverBatch = JsonSerializer.Serialize(submission.DriverBatch, BatchJson.Default.BatchSpec);
        var key = submission.Key;
        var withBatch = driverBatches.InDatabase(database);
        // Where the run's ConfigPath points, before the batch that reads it can exist.
        if (withBatch is not null) await withBatch.PublishConfigAsync(run.ArGuid, submission.ConfigToml, cancellationToken).ConfigureAwait(false);
        var committing = false;
        RunRecord? sealedRun;
        KeyedRun? earlier;
        try
        {
            (sealedRun, earlier) = await database.RunAsync(async connection =>
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var queue = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
                {
                    queue.Parameters.AddWithValue(ChainLockKey);
                    await queue.ExecuteNonQueryAsync(cancellationToken);
                }
                // Read after the lock, so this statement sees the entry of whoever held it last.
                string previous;
                await using (var head = new NpgsqlCommand("SELECT entry_hash FROM audit_log ORDER BY id DESC LIMIT 1", connection, transaction))
                    previous = await head.ExecuteScalarAsync(cancellationToken) as string ?? AuditChain.Genesis;
                // Under the same lock, so of two appends with one key the second always sees the first's.
                if (key is not null && await FindKeyAsync(connection, transaction, run.User, key.Value, cancellationToken) is { } taken)
                    return ((RunRecord?)null, (KeyedRun?)taken);
                var chained = run with { PreviousHash = previous };
                chained = chained with { EntryHash = AuditChain.EntryHash(previous, chained) };
                // The entry is sealed with DriverBatchId 0 either way (see the class), so both paths chain alike.
                long? batchId = withBatch is null ? null : await withBatch.InsertAsync(submission.DriverBatch, connection, transaction, cancellationToken);
                await using var insert = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        Command("""
                            INSERT INTO audit_log (ar_guid, timestamp_ms, user_email, dataset, access_level, entry, prev_hash, entry_hash, seal)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                            """, chained.ArGuid, chained.Timestamp.ToUnixTimeMilliseconds(), chained.User, chained.Dataset,
                            chained.AccessLevel.ToConfigName(), Entry(chained), previous, chained.EntryHash!,
                            driverBatches.Seal.OfEntry(chained.ArGuid, chained.EntryHash!)),
                        Command("INSERT INTO run_configs (ar_guid, toml) VALUES ($1, $2)", chained.ArGuid, submission.ConfigToml),
                        batchId is { } made
                            ? Command("INSERT INTO run_dispatch (ar_guid, driver_batch, driver_batch_id, dispatched_at) VALUES ($1, $2, $3, now())",
                                chained.ArGuid, driverBatch, made)
                            : Command("INSERT INTO run_dispatch (ar_guid, driver_batch, seal) VALUES ($1, $2, $3)", chained.ArGuid, driverBatch,
                                driverBatches.Seal.OfDispatch(chained.ArGuid, chained.EntryHash!, submission.ConfigToml, driverBatch)),
                    },
                };
                if (key is not null)
                    insert.BatchCommands.Add(Command("INSERT INTO run_keys (user_email, key, request_hash, ar_guid) VALUES ($1, $2, $3, $4)",
                        chained.User, key.Value, key.RequestHash, chained.ArGuid));
                try
                {
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    throw new AnalysisRunnerException("DuplicateRun", ErrorKind.InvalidOperation, chained.ArGuid,
                        $"The audit log already holds run {chained.ArGuid}; each run gets a new ar_guid.", e);
                }
                // Not cancelled from here: once committed the run is logged, whatever the caller does.
                committing = true;
                try
                {
                    await transaction.CommitAsync(CancellationToken.None);
                }
                catch (Exception lost) when (PostgresDatabase.IsUnavailable(lost))
                {
                    // Not retried (an AnalysisRunnerException is no connection failure to RunAsync): the
                    // commit may have landed, and a second try would log the run twice or fail as a duplicate.
                    throw database.Unavailable(
                        $"went away while committing run {chained.ArGuid}, which may or may not be logged (Get-AnalysisLog -ArGuid tells)", lost);
                }
                return ((RunRecord?)(chained with { DriverBatchId = batchId ?? 0 }), (KeyedRun?)null);
            }, cancellationToken);
        }
        catch when (withBatch is not null && !committing)
        {
            await withBatch.WithdrawConfigAsync(run.ArGuid).ConfigureAwait(false);
            throw;
        }
        if (earlier is not null)
        {
            if (withBatch is not null) await withBatch.WithdrawConfigAsync(run.ArGuid).ConfigureAwait(false);
            return key!.Replay(earlier.Run, earlier.RequestHash);
        }
        if (sealedRun!.DriverBatchId != 0) return sealedRun;
        try
        {
            var batchId = await DispatchAsync(sealedRun!, submission.ConfigToml, submission.DriverBatch).ConfigureAwait(false);
            return sealedRun! with { DriverBatchId = batchId };
        }
        catch (Exception error)
        {
            // Whatever failed, the run is logged: the answer is the run, and the retry creates its batch.
            try { DispatchFailed?.Invoke(sealedRun!, error); }
            catch (Exception) { /* a watcher failing (one stopping with the server) must not turn the logged run into an error */ }
            return sealedRun!;
        }
    }

    /// <summary>
    /// Creates the driver batch of every logged run that has none, oldest first. A run whose dispatch
    /// fails does not hold up the ones after it: each is tried, and the first failure is thrown at the
    /// end (so a caller retrying backs off) once every other run has its batch.
    /// </summary>
    public async Task<int> DispatchPendingAsync(CancellationToken cancellationToken = default)
    {
        var dispatched = 0;
        var after = 0L;
        Exception? firstFailure = null;
        while (true)
        {
            var pending = await database.RunAsync(async connection =>
            {
                await using var command = new NpgsqlCommand("""
                    SELECT a.id, a.entry, a.prev_hash, a.entry_hash, c.toml, d.driver_batch, d.seal
                    FROM run_dispatch d JOIN audit_log a USING (ar_guid) JOIN run_configs c USING (ar_guid)
                    WHERE d.driver_batch_id IS NULL AND d.cancelled_at IS NULL AND a.id > $2 ORDER BY a.id LIMIT $1
                    """, connection);
                command.Parameters.AddWithValue(ChunkSize);
                command.Parameters.AddWithValue(after);
                // Read as text and parsed per run below: one row that no longer parses is that run's failure, not every run's.
                var rows = new List<(long Id, string Entry, string PreviousHash, string EntryHash, string Toml, string Batch, string? Seal)>();
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                        reader.IsDBNull(6) ? null : reader.GetString(6)));
                return rows;
            }, cancellationToken);
            foreach (var (id, entry, previousHash, entryHash, toml, batch, seal) in pending)
            {
                after = id;
                try
                {
                    var run = ReadEntry(entry, previousHash, entryHash, 0);
                    // Only what this runner queued, as it queued it: a row written into the database by anyone else makes no batch.
                    AuditChain.CheckEntry(run);
                    RunEntrySeal.Check(driverBatches.Seal.OfDispatch(run.ArGuid, entryHash, toml, batch), seal, run.ArGuid, "queued driver batch");
                    await DispatchAsync(run, toml, JsonSerializer.Deserialize(batch, BatchJson.Default.BatchSpec)!, cancellationToken).ConfigureAwait(false);
                    dispatched++;
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    firstFailure ??= error;
                }
            }
            if (pending.Count < ChunkSize) break;
        }
        if (firstFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(firstFailure);
        return dispatched;
    }

    /// <summary>
    /// Creates (or finds) the run's driver batch, then records its id; a crash between the two is
    /// repaired by the next dispatch, which finds the same batch. A run cancelled while its batch was
    /// being made (<see cref="CancelPendingDispatchAsync"/> won the row first) has that batch cancelled
    /// at once: the row's update is the one point both sides pass, so one of them always sees the other.
    /// </summary>
    private async Task<long> DispatchAsync(RunRecord run, string configToml, BatchSpec driverBatch, CancellationToken cancellationToken = default)
    {
        var batchId = await driverBatches.EnsureDriverBatchAsync(run, configToml, driverBatch, cancellationToken).ConfigureAwait(false);
        var cancelled = await database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                UPDATE run_dispatch SET driver_batch_id = $2, dispatched_at = now() WHERE ar_guid = $1 AND driver_batch_id IS NULL
                RETURNING cancelled_at IS NOT NULL
                """, connection);
            command.Parameters.AddWithValue(run.ArGuid);
            command.Parameters.AddWithValue(batchId);
            return await command.ExecuteScalarAsync(cancellationToken) is true;
        }, cancellationToken);
        if (cancelled) await driverBatches.CancelDriverBatchAsync(run.ArGuid, CancellationToken.None).ConfigureAwait(false);
        return batchId;
    }

    /// <summary>
    /// Seals what was logged before entries carried seals (migration 5), once, on the server's start:
    /// every unsealed entry, and every unsealed queued driver batch, if the whole chain verifies from
    /// its start. The key cannot be in a migration (SQL runs without it), and without a seal those runs
    /// would be unreadable (queries answer only sealed entries). What the database held at that moment
    /// is trusted, as it was before seals existed; a chain that does not verify is sealed nowhere, and
    /// Test-AnalysisLog says where it breaks. Returns the number of entries sealed.
    /// </summary>
    public async Task<int> SealEarlierEntriesAsync(CancellationToken cancellationToken = default)
    {
        var anyUnsealed = await database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM audit_log WHERE seal IS NULL)", connection);
            return await command.ExecuteScalarAsync(cancellationToken) is true;
        }, cancellationToken);
        if (!anyUnsealed) return 0;
        var chain = new List<RunRecord>();
        await foreach (var entry in ReadChainAsync(cancellationToken)) chain.Add(entry);
        if (!AuditChain.Verify(chain).Valid) return 0;
        return await database.RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var sealedCount = 0;
            foreach (var entry in chain)
            {
                await using var update = new NpgsqlCommand("UPDATE audit_log SET seal = $2 WHERE ar_guid = $1 AND seal IS NULL", connection, transaction);
                update.Parameters.AddWithValue(entry.ArGuid);
                update.Parameters.AddWithValue(driverBatches.Seal.OfEntry(entry.ArGuid, entry.EntryHash!));
                sealedCount += await update.ExecuteNonQueryAsync(cancellationToken);
            }
            var queued = new List<(string ArGuid, string EntryHash, string Toml, string Batch)>();
            await using (var pending = new NpgsqlCommand("""
                SELECT a.ar_guid, a.entry_hash, c.toml, d.driver_batch
                FROM run_dispatch d JOIN audit_log a USING (ar_guid) JOIN run_configs c USING (ar_guid)
                WHERE d.seal IS NULL AND d.driver_batch_id IS NULL
                """, connection, transaction))
            await using (var reader = await pending.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken))
                    queued.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            foreach (var (arGuid, entryHash, toml, batch) in queued)
            {
                await using var update = new NpgsqlCommand("UPDATE run_dispatch SET seal = $2 WHERE ar_guid = $1 AND seal IS NULL", connection, transaction);
                update.Parameters.AddWithValue(arGuid);
                update.Parameters.AddWithValue(driverBatches.Seal.OfDispatch(arGuid, entryHash, toml, batch));
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return sealedCount;
        }, cancellationToken);
    }

    public async Task<bool> CancelPendingDispatchAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        return await database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "UPDATE run_dispatch SET cancelled_at = coalesce(cancelled_at, now()) WHERE ar_guid = $1 AND driver_batch_id IS NULL", connection);
            command.Parameters.AddWithValue(arGuid);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);
    }

    public async Task<bool> IsDriverBatchWithheldAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        return await database.RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT 1 FROM run_dispatch WHERE ar_guid = $1 AND driver_batch_id IS NULL AND cancelled_at IS NOT NULL", connection);
            command.Parameters.AddWithValue(arGuid);
            return await command.ExecuteScalarAsync(cancellationToken) is not null;
        }, cancellationToken);
    }

    public async Task<KeyedRun?> FindByKeyAsync(string user, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(key);
        return await database.RunAsync(connection => FindKeyAsync(connection, null, user, key, cancellationToken), cancellationToken);
    }

    private async Task<KeyedRun?> FindKeyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string user, string key,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT {Selected}, k.request_hash FROM run_keys k JOIN audit_log a USING (ar_guid) LEFT JOIN run_dispatch d USING (ar_guid)
            WHERE k.user_email = $1 AND k.key = $2
            """, connection, transaction);
        command.Parameters.AddWithValue(user);
        command.Parameters.AddWithValue(key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new KeyedRun(Sealed(reader, withBatch: true), reader.GetString(6));
    }

    public IAsyncEnumerable<RunRecord> QueryAsync(LogQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.First is < 0)
            throw new AnalysisRunnerException("InvalidFirst", ErrorKind.InvalidArgument, query.First,
                $"-First must be 0 or more, not {query.First}.");
        return StreamQuery(query, cancellationToken);
    }

    /// <summary>Newest first in chunks, each its own short query from where the last ended (timestamp, id), so no connection is held while the caller reads.</summary>
    private async IAsyncEnumerable<RunRecord> StreamQuery(LogQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var left = query.First ?? int.MaxValue;
        (long Ms, long Id)? after = null;
        while (left > 0)
        {
            var limit = Math.Min(left, ChunkSize);
            var chunk = await database.RunAsync(async connection =>
            {
                await using var command = new NpgsqlCommand { Connection = connection };
                var conditions = new List<string>();
                void Filter(string condition, object? value)
                {
                    if (value is null) return;
                    command.Parameters.AddWithValue(value);
                    conditions.Add(condition.Replace("?", "$" + command.Parameters.Count, StringComparison.Ordinal));
                }
                Filter("a.dataset = ?", query.Dataset);
                Filter("a.user_email = ?", query.User);
                Filter("a.access_level = ?", query.AccessLevel?.ToConfigName());
                Filter("a.ar_guid = ?", query.ArGuid);
                Filter("a.timestamp_ms >= ?", query.After?.ToUnixTimeMilliseconds());
                Filter("a.timestamp_ms < ?", query.Before?.ToUnixTimeMilliseconds());
                if (after is { } key)
                {
                    command.Parameters.AddWithValue(key.Ms);
                    command.Parameters.AddWithValue(key.Id);
                    conditions.Add($"(a.timestamp_ms, a.id) < (${command.Parameters.Count - 1}, ${command.Parameters.Count})");
                }
                command.Parameters.AddWithValue(limit);
                var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
                command.CommandText = $"SELECT {Selected}, a.timestamp_ms, {WithheldColumn} FROM audit_log a LEFT JOIN run_dispatch d USING (ar_guid){where} " +
                                      $"ORDER BY a.timestamp_ms DESC, a.id DESC LIMIT ${command.Parameters.Count}";
                return await ReadRowsAsync(command, cancellationToken, withBatch: true, verify: true);
            }, cancellationToken);
            // The columns only find candidates (whoever reaches the database can rewrite them): the sealed entry decides.
            foreach (var (_, run) in chunk.Where(row => Matches(query, row.Run))) yield return run;
            left -= chunk.Count;
            if (chunk.Count < limit) yield break;
            after = (chunk[^1].Run.Timestamp.ToUnixTimeMilliseconds(), chunk[^1].Id);
        }
    }

    public async IAsyncEnumerable<RunRecord> ReadChainAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long afterId = 0;
        while (true)
        {
            var chunk = await database.RunAsync(async connection =>
            {
                await using var command = new NpgsqlCommand(
                    $"SELECT {Selected} FROM audit_log a LEFT JOIN run_dispatch d USING (ar_guid) WHERE a.id > $1 ORDER BY a.id LIMIT $2", connection);
                command.Parameters.AddWithValue(afterId);
                command.Parameters.AddWithValue(ChunkSize);
                return await ReadRowsAsync(command, cancellationToken, withBatch: false, verify: false);
            }, cancellationToken);
            foreach (var (_, run) in chunk) yield return run;
            if (chunk.Count < ChunkSize) yield break;
            afterId = chunk[^1].Id;
        }
    }

    /// <summary>Column 7 of a query's rows: stopped before its driver batch was made (IsDriverBatchWithheldAsync's rule), read with the page, not per run.</summary>
    private const string WithheldColumn = "(d.driver_batch_id IS NULL AND d.cancelled_at IS NOT NULL)";

    /// <param name="withBatch">A query's rows (<see cref="Selected"/>, the timestamp, <see cref="WithheldColumn"/>): the dispatch as it is now; else entries as sealed.</param>
    /// <param name="verify">Each entry only as the runner sealed it (<see cref="Sealed"/>).</param>
    private async Task<List<(long Id, RunRecord Run)>> ReadRowsAsync(NpgsqlCommand command, CancellationToken cancellationToken, bool withBatch, bool verify)
    {
        var rows = new List<(long, RunRecord)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var run = verify ? Sealed(reader, withBatch)
                : ReadEntry(reader.GetString(1), reader.GetString(2), reader.GetString(3), withBatch && !reader.IsDBNull(4) ? reader.GetInt64(4) : 0);
            rows.Add((reader.GetInt64(0), withBatch ? run with { DriverBatchWithheld = reader.GetBoolean(7) } : run));
        }
        return rows;
    }

    /// <summary>
    /// A row of <see cref="Selected"/> as an answer to a query: only an entry that hashes as stored and
    /// carries the runner's seal (RunEntryNotSealed otherwise). Its dataset, access level and user decide
    /// who may read the run, its batches and their logs, and who may cancel them (the server's endpoints
    /// and pages): whoever reaches the database could rewrite the entry's text to name their own dataset
    /// and themselves, and then read or cancel another dataset's run through the API. The chain itself is
    /// read as stored (ReadChainAsync), so Test-AnalysisLog can say where it breaks.
    /// </summary>
    private RunRecord Sealed(NpgsqlDataReader reader, bool withBatch)
    {
        var run = ReadEntry(reader.GetString(1), reader.GetString(2), reader.GetString(3), 0);
        AuditChain.CheckEntry(run);
        driverBatches.Seal.CheckEntry(run, reader.IsDBNull(5) ? null : reader.GetString(5));
        return withBatch && !reader.IsDBNull(4) ? run with { DriverBatchId = reader.GetInt64(4) } : run;
    }

    private static bool Matches(LogQuery query, RunRecord run) =>
        (query.Dataset is null || query.Dataset == run.Dataset) && (query.User is null || query.User == run.User) &&
        (query.AccessLevel is null || query.AccessLevel == run.AccessLevel) && (query.ArGuid is null || query.ArGuid == run.ArGuid);

    /// <summary>The entry as sealed, in the API's JSON form (which round-trips every field AuditChain hashes); hashes live in their own columns.</summary>
    private static string Entry(RunRecord run) =>
        JsonSerializer.Serialize(run with { PreviousHash = null, EntryHash = null, DriverBatchId = 0, Url = null }, ApiJson.Options);

    /// <summary>An entry as stored; JSON null (written past the store) is an altered entry, not a crash.</summary>
    internal static RunRecord ReadEntry(string entry, string previousHash, string entryHash, long driverBatchId) =>
        (JsonSerializer.Deserialize<RunRecord>(entry, ApiJson.Options)
            ?? throw new AnalysisRunnerException("AuditChainBroken", ErrorKind.InvalidData, entryHash,
                "An audit log entry in PostgreSQL is empty (JSON null): it was written past the runner, so nothing is run from it.")) with
        {
            PreviousHash = previousHash,
            EntryHash = entryHash,
            DriverBatchId = driverBatchId,
        };

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}
