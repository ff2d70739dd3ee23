using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The embedded run store over a runner home: the config is published first (write-once, outside any
/// database transaction, since on GCS it is a network call), then one SQLite transaction writes the
/// driver batch, the audit row (SqliteAuditLog) and the submission key if any (run_keys); if that
/// fails the config is withdrawn.
/// </summary>
public sealed class SqliteRunLog : IRunLog
{
    private const string KeySchema = """
        CREATE TABLE IF NOT EXISTS run_keys (
            user_email TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            ar_guid TEXT NOT NULL UNIQUE,
            created_ms INTEGER NOT NULL,
            PRIMARY KEY (user_email, key)
        );
        """;

    private readonly Deployment _deployment;
    private readonly SqliteAuditLog _auditLog;

    public SqliteRunLog(Deployment deployment, SqliteAuditLog auditLog)
    {
        _deployment = deployment ?? throw new ArgumentNullException(nameof(deployment));
        _auditLog = auditLog ?? throw new ArgumentNullException(nameof(auditLog));
        deployment.Database.EnsureSchema("run_keys", KeySchema);
    }

    public async Task<RunRecord> AppendAsync(RunSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var key = submission.Key;
        // Checked before the config is published, so a replay writes nothing at all.
        if (key is not null && await FindByKeyAsync(submission.Run.User, key.Value, cancellationToken).ConfigureAwait(false) is { } earlier)
            return key.Replay(earlier.Run, earlier.RequestHash);
        await _deployment.Configs.PublishAsync(submission.Run.ArGuid, submission.ConfigToml, cancellationToken).ConfigureAwait(false);
        RunRecord? logged;
        (string ArGuid, string RequestHash)? taken;
        try
        {
            (logged, taken) = await _deployment.Database.InTransactionAsync(async (connection, transaction) =>
            {
                // The write transaction is exclusive, so a key another append logged since the check above is seen here.
                if (key is not null && FindKey(submission.Run.User, key.Value, connection, transaction) is { } meanwhile)
                    return ((RunRecord?)null, ((string, string)?)meanwhile);
                // Batches in runner.db land in this transaction. A home whose batches are in PostgreSQL
                // commits the batch there while this transaction (and SQLite's write lock) is open, after
                // the refusals the audit row could meet: if this one still fails (a full disk), that
                // batch's run is not logged and the executor refuses it (BatchScope finds no entry); it
                // is never a logged run without its batch.
                long batchId;
                if (_deployment.Batches is Batch.SqliteBatchStore homeBatches)
                    batchId = homeBatches.Submit(submission.DriverBatch, connection, transaction);
                else
                {
                    SqliteAuditLog.RefuseLogged(submission.Run.ArGuid, connection, transaction);
                    batchId = await _deployment.Batches.SubmitAsync(submission.DriverBatch, cancellationToken).ConfigureAwait(false);
                }
                var appended = _auditLog.Append(submission.Run with { DriverBatchId = batchId }, connection, transaction);
                if (key is not null) InsertKey(appended, key, connection, transaction);
                return (appended, null);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await WithdrawUnloggedConfigAsync(submission.Run.ArGuid).ConfigureAwait(false);
            throw;
        }
        if (logged is not null) return logged;
        await WithdrawUnloggedConfigAsync(submission.Run.ArGuid).ConfigureAwait(false);
        return key!.Replay(_auditLog.Query(new LogQuery { ArGuid = taken!.Value.ArGuid, First = 1 }).Single(), taken.Value.RequestHash);
    }

    private async Task WithdrawUnloggedConfigAsync(string arGuid)
    {
        if (!_auditLog.Query(new LogQuery { ArGuid = arGuid, First = 1 }).Any())
            await _deployment.Configs.WithdrawAsync(arGuid, CancellationToken.None).ConfigureAwait(false);
    }

    public Task<KeyedRun?> FindByKeyAsync(string user, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(key);
        var found = _deployment.Database.Guard(() =>
        {
            using var connection = _deployment.Database.Open();
            return FindKey(user, key, connection, null);
        });
        var run = found is null ? null : _auditLog.Query(new LogQuery { ArGuid = found.Value.ArGuid, First = 1 }).SingleOrDefault();
        return Task.FromResult(run is null ? null : new KeyedRun(run, found!.Value.RequestHash));
    }

    /// <summary>The driver batch is written with the entry, so it is never pending: cancel the run's batches as they are.</summary>
    public Task<bool> CancelPendingDispatchAsync(string arGuid, CancellationToken cancellationToken = default) => Task.FromResult(false);

    public Task<bool> IsDriverBatchWithheldAsync(string arGuid, CancellationToken cancellationToken = default) => Task.FromResult(false);

    private static (string ArGuid, string RequestHash)? FindKey(string user, string key, SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT ar_guid, request_hash FROM run_keys WHERE user_email = $user AND key = $key";
        command.Parameters.AddWithValue("$user", user);
        command.Parameters.AddWithValue("$key", key);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    private static void InsertKey(RunRecord run, SubmissionKey key, SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO run_keys (user_email, key, request_hash, ar_guid, created_ms) VALUES ($user, $key, $hash, $ar_guid, $now)";
        command.Parameters.AddWithValue("$user", run.User);
        command.Parameters.AddWithValue("$key", key.Value);
        command.Parameters.AddWithValue("$hash", key.RequestHash);
        command.Parameters.AddWithValue("$ar_guid", run.ArGuid);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public IAsyncEnumerable<RunRecord> QueryAsync(LogQuery query, CancellationToken cancellationToken = default) =>
        // Query checks its arguments when called, not when read.
        Stream(_auditLog.Query(query), cancellationToken);

    public IAsyncEnumerable<RunRecord> ReadChainAsync(CancellationToken cancellationToken = default) =>
        Stream(_auditLog.ReadChain(), cancellationToken);

    /// <summary>The driver batch is written in the append's own transaction: nothing is ever pending.</summary>
    public Task<int> DispatchPendingAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);

    private static async IAsyncEnumerable<RunRecord> Stream(IEnumerable<RunRecord> runs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var run in runs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return run;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
