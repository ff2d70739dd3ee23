using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Whose batch it is, which decides what it may read and write: the run it belongs to (from a
/// verified capability, never from attributes), or outside any run the user who submitted it, whose
/// registry membership decides. Recorded on the batch at submit (ArGuid, attributes author/dataset/
/// access_level from the run) and derived again from that record by the executor.
/// </summary>
public sealed record BatchScope(string Author, RunRecord? Run)
{
    public static BatchScope ForRun(RunRecord run) => new(run.User, run);

    public static BatchScope ForCaller(string user) => new(user, null);

    /// <summary>
    /// The scope of a stored batch, as the executor sees it: a batch with an ar_guid belongs to that
    /// logged run (its entry must still verify); otherwise its recorded author's membership decides.
    /// </summary>
    public static BatchScope Of(BatchSpec spec, ILoggedRuns loggedRuns)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.ArGuid is { } arGuid)
        {
            var run = loggedRuns.Find(arGuid)
                ?? throw new BatchValidationException("RunNotFound", ErrorKind.PermissionDenied, arGuid,
                    $"The batch claims run {arGuid}, which is not in the audit log; it gets no run's scope.");
            AuditChain.CheckEntry(run);
            return ForRun(run);
        }
        return ForCaller(spec.Attributes.TryGetValue("author", out var author) ? author : "");
    }
}
