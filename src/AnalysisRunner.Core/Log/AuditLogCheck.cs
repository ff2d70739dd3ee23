using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// What Test-AnalysisLog verifies: the chain of the deployment's store of record and, where that is
/// the runner home's own log, the copies of a server's entries the home keeps for the driver batches
/// it runs (those link into the server's chain, which the server's own store verifies).
/// </summary>
public static class AuditLogCheck
{
    public static AuditLogVerification Verify(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var chain = AuditChain.Verify(deployment.RunLog.ReadChainAsync().ToBlockingEnumerable());
        return deployment.RunLog is SqliteRunLog ? AuditChain.CheckCopies(chain, deployment.HomeAuditLog.ReadCopies()) : chain;
    }
}
