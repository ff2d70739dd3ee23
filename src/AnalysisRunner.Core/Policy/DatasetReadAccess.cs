using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Who may read what a dataset's runs left behind (audit rows, batches, jobs, logs, configs, the web
/// bucket): its members, per bucket namespace. The test namespace is read by any member of the dataset
/// (whoever may run at standard or full may run at test's data too); the main namespace only by the
/// members at standard or full. A dataset the registry does not have answers exactly like one the
/// caller is not a member of, so names cannot be probed.
/// </summary>
public static class DatasetReadAccess
{
    public static bool MayRead(DatasetRegistry registry, string user, string dataset, string ns)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (registry.Find(dataset) is not { } entry) return false;
        var levels = ns switch
        {
            "test" => new[] { AccessLevel.Test, AccessLevel.Standard, AccessLevel.Full },
            "main" => new[] { AccessLevel.Standard, AccessLevel.Full },
            _ => [],
        };
        return levels.Any(level => entry.Members.TryGetValue(level, out var members) && members.Contains(user, Identity.Comparer));
    }

    /// <summary>403 NotADatasetMember unless <see cref="MayRead"/>.</summary>
    public static void Check(DatasetRegistry registry, string user, string dataset, string ns)
    {
        if (MayRead(registry, user, dataset, ns)) return;
        throw new PolicyViolationException("NotADatasetMember", ErrorKind.PermissionDenied, $"{dataset}-{ns}",
            $"'{user}' is not a member of dataset '{dataset}' for its {ns} namespace, so cannot read its runs, batches or files; " +
            $"an admin adds members under [datasets.{dataset}.members] in the registry.");
    }

    /// <summary>The namespace of an access level's buckets and runs.</summary>
    public static string NamespaceOf(AccessLevel level) => level.Namespace();
}
