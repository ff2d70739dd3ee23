using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// The logged run an ar_guid names, as the executor trusts it when it scopes a batch (BatchScope) or
/// honours a run token (RunTokens): read from the store of record of the home's batches, never from a
/// batch's own claims. The caller still checks the entry's hash (AuditChain.CheckEntry).
/// </summary>
public interface ILoggedRuns
{
    /// <summary>The run's entry as logged, hashes included; null when no run of that ar_guid is logged.</summary>
    RunRecord? Find(string arGuid);
}
