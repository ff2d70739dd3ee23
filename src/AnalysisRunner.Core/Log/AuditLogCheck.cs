using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// What Test-AnalysisLog verifies: the chain of the deployment's store of record and, where that is
/// the runner home's own log, the copies of a server's entries the home keeps for the driver batches
/// it runs (those link into the server's chain, which the server's own store verifies; where the home's
/// batches are in the server's PostgreSQL, each copy must also be an entry of that log, hash and all).
/// </summary>
public static class AuditLogCheck
{
    public static async Task<AuditLogVerification> VerifyAsync(Deployment deployment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var entries = new List<Runs.RunRecord>();
        await foreach (var entry in deployment.RunLog.ReadChainAsync(cancellationToken).ConfigureAwait(false)) entries.Add(entry);
        var chain = AuditChain.Verify(entries);
        if (deployment.RunLog is not SqliteRunLog) return chain;
        // A home whose batches are in PostgreSQL shares that database with the server it runs for, whose log the copies came from.
        return AuditChain.CheckCopies(chain, deployment.HomeAuditLog.ReadCopies(),
            deployment.Batches is PostgresBatchStore postgres ? postgres.ServerEntryHashes : null);
    }
}
