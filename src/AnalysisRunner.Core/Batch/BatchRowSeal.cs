using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// What makes a batch's rows in PostgreSQL the runner's own: an HMAC with the home's run-token key over
/// the batch's id and stored spec, and over each job's batch id, job id and stored spec. Whoever reaches
/// the database without the key (a job sharing the host's network, where PostgreSQL trusts local
/// connections) can write rows, but not rows the executor runs: it checks the seal of every batch and
/// job spec it loads (PostgresJobLedger), and a row that fails is refused (BatchRowNotSealed), so a
/// forged batch never runs with the scope of the run it names. The ids are sealed too, so a sealed row
/// copied to another batch or job does not pass either. runner.db needs none: only the home's owner,
/// who holds the key, can write it.
/// </summary>
internal static class BatchRowSeal
{
    public static string OfBatch(RunnerHome home, long batchId, string spec) =>
        Convert.ToHexString(RunTokens.Sign(home, "batch row", $"{batchId}\n{spec}"));

    public static string OfJob(RunnerHome home, long batchId, int jobId, string spec) =>
        Convert.ToHexString(RunTokens.Sign(home, "job row", $"{batchId}\n{jobId}\n{spec}"));

    /// <summary>Whether <paramref name="presented"/> is the seal <paramref name="expected"/>, compared in constant time.</summary>
    public static bool Holds(string expected, string? presented) => RunTokens.SignatureMatches(expected, presented);

    /// <summary>Throws BatchRowNotSealed unless <paramref name="presented"/> is <paramref name="expected"/>.</summary>
    public static void Check(string expected, string? presented, string row)
    {
        if (Holds(expected, presented)) return;
        throw new AnalysisRunnerException("BatchRowNotSealed", ErrorKind.PermissionDenied, row,
            $"{row} in PostgreSQL does not carry this runner's seal: the runner did not write it as it reads now, so it is not run.");
    }
}
