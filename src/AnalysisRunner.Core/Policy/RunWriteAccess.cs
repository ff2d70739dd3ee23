using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Who may change a run's batches (cancel, resume, remove) on a server: the user who submitted the
/// run, or a member of its dataset at full, who may do anything to the dataset's data anyway. Reading
/// is wider (<see cref="DatasetReadAccess"/>): a colleague may watch a run, not stop it or delete its
/// logs. Checked after the read rule, so a submitter who has left the dataset can no longer act either.
/// </summary>
public static class RunWriteAccess
{
    public static bool MayChange(DatasetRegistry registry, string user, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(run);
        if (Identity.Same(run.User, user)) return true;
        return registry.Find(run.Dataset) is { } entry
            && entry.Members.TryGetValue(AccessLevel.Full, out var full) && full.Contains(user, Identity.Comparer);
    }

    /// <summary>403 NotTheRunsSubmitter unless <see cref="MayChange"/>.</summary>
    public static void Check(DatasetRegistry registry, string user, RunRecord run)
    {
        if (MayChange(registry, user, run)) return;
        throw new PolicyViolationException("NotTheRunsSubmitter", ErrorKind.PermissionDenied, run.ArGuid,
            $"Run {run.ArGuid} was submitted by '{run.User}': only they, or a member of dataset '{run.Dataset}' at full, " +
            $"may cancel, resume or remove its batches; '{user}' may read it.");
    }
}
