using System.Security.Cryptography;
using System.Text;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// What makes a run in the server's PostgreSQL log the runner's own: HMACs with the run-token key of the
/// home that runs its batches. The audit chain's hashes are not keyed, so whoever reaches the database
/// (a job sharing the host's network, where the cluster trusts local connections) could write an entry,
/// or rewrite one and its hash, for any dataset and level, or queue an outbox row the dispatcher would
/// turn into a driver batch. Now the entry carries a seal over its ar_guid and hash, which the executor
/// checks before it takes the entry for a batch's run (PostgresLoggedRuns), and the outbox row one over
/// the entry, the config text and the driver batch, which the dispatcher checks before it makes anything.
/// </summary>
public sealed class RunEntrySeal(RunnerHome home)
{
    public string OfEntry(string arGuid, string entryHash) =>
        Convert.ToHexString(RunTokens.Sign(home, "audit entry", $"{arGuid}\n{entryHash}"));

    public string OfDispatch(string arGuid, string entryHash, string configToml, string driverBatch) =>
        Convert.ToHexString(RunTokens.Sign(home, "run dispatch",
            $"{arGuid}\n{entryHash}\n{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(configToml)))}\n" +
            Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(driverBatch)))));

    /// <summary>Throws RunEntryNotSealed unless <paramref name="presented"/> is the seal of <paramref name="entry"/> as logged (its ar_guid and hash).</summary>
    public void CheckEntry(RunRecord entry, string? presented) =>
        Check(OfEntry(entry.ArGuid, entry.EntryHash!), presented, entry.ArGuid, "audit entry");

    /// <summary>Throws RunEntryNotSealed unless <paramref name="presented"/> is <paramref name="expected"/>.</summary>
    public static void Check(string expected, string? presented, string arGuid, string what)
    {
        if (RunTokens.SignatureMatches(expected, presented)) return;
        throw new AnalysisRunnerException("RunEntryNotSealed", ErrorKind.PermissionDenied, arGuid,
            $"The {what} of run {arGuid} in PostgreSQL does not carry this runner's seal: the runner did not log it as it reads now, " +
            "so it is no run's authority.");
    }
}
