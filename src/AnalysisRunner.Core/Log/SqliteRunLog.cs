using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The embedded run store over a runner home: the config is published first (write-once, outside any
/// database transaction, since on GCS it is a network call), then one SQLite transaction writes the
/// driver batch and the audit row (SqliteAuditLog); if that fails the config is withdrawn.
/// </summary>
public sealed class SqliteRunLog(Deployment deployment, SqliteAuditLog auditLog) : IRunLog
{
    public async Task<RunRecord> AppendAsync(RunSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        await deployment.Configs.PublishAsync(submission.Run.ArGuid, submission.ConfigToml, cancellationToken).ConfigureAwait(false);
        try
        {
            return deployment.Database.InTransaction((connection, transaction) =>
            {
                var batchId = deployment.Batches.Submit(submission.DriverBatch, connection, transaction);
                return auditLog.Append(submission.Run with { DriverBatchId = batchId }, connection, transaction);
            });
        }
        catch
        {
            if (!auditLog.Query(new LogQuery { ArGuid = submission.Run.ArGuid, First = 1 }).Any())
                await deployment.Configs.WithdrawAsync(submission.Run.ArGuid, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public IAsyncEnumerable<RunRecord> QueryAsync(LogQuery query, CancellationToken cancellationToken = default) =>
        // Query checks its arguments when called, not when read.
        Stream(auditLog.Query(query), cancellationToken);

    public IAsyncEnumerable<RunRecord> ReadChainAsync(CancellationToken cancellationToken = default) =>
        Stream(auditLog.ReadChain(), cancellationToken);

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
