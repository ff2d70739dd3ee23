using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Storage;

/// <summary>
/// Who gets which scoped store. Inside a job, the run its capability names (AR_RUN_TOKEN, verified:
/// RunTokens) decides, and -Dataset/-AccessLevel can only narrow that scope (full to standard), never
/// widen or move it. Outside any run the caller names a dataset and access level, or the bucket's name
/// says them, and the caller must be a member there (the same registry rules as Submit-Analysis),
/// because the store uses the runner's key for that scope. CPG_CONFIG_PATH is never consulted: it is a
/// path anyone can point at a file they wrote.
/// </summary>
public sealed class StorageAccess(Deployment deployment)
{
    /// <summary>
    /// The store for a command on <paramref name="path"/> by <paramref name="user"/>, in
    /// <paramref name="run"/> (the verified run of this job) or outside any run (null).
    /// </summary>
    public ScopedObjectStore For(StorageUri? path, string? dataset, AccessLevel? level, string user, RunRecord? run)
    {
        if (run is not null) return ForRun(run, dataset, level);
        if (dataset is null && path is { Scheme: StorageScheme.Gs } && InferScope(path.Bucket) is { } inferred)
        {
            if (inferred.Level == AccessLevel.Test && level is { } asked && asked != AccessLevel.Test)
                throw new StorageException("AccessLevelMismatch", ErrorKind.InvalidArgument, path.ToString(),
                    $"'{path}' is a test bucket; use -AccessLevel test (or leave it out) for it.");
            return ForMember(inferred.Dataset, inferred.Level == AccessLevel.Test ? AccessLevel.Test : level ?? AccessLevel.Standard, user);
        }
        if (dataset is null)
            throw new StorageException("NoStorageScope", ErrorKind.InvalidArgument, path?.ToString(),
                "Name the scope with -Dataset and -AccessLevel, or give a gs:// path in a bucket of a dataset (inside a job its run's scope is used).");
        return ForMember(dataset, level ?? AccessLevel.Test, user);
    }

    private ScopedObjectStore ForRun(RunRecord run, string? dataset, AccessLevel? level)
    {
        if (dataset is not null && dataset != run.Dataset)
            throw new StorageException("ScopeOutsideRun", ErrorKind.PermissionDenied, dataset,
                $"This job belongs to run {run.ArGuid} on dataset '{run.Dataset}'; it cannot use storage of dataset '{dataset}'.");
        var granted = level ?? run.AccessLevel;
        // full may narrow to standard (the same buckets, without deleting); nothing else is inside a run's scope.
        if (granted != run.AccessLevel && !(run.AccessLevel == AccessLevel.Full && granted == AccessLevel.Standard))
            throw new StorageException("AccessLevelMismatch", ErrorKind.PermissionDenied, granted.ToConfigName(),
                $"This job's run is at access level {run.AccessLevel.ToConfigName()}; it cannot use storage at {granted.ToConfigName()}.");
        return deployment.ScopedStore(run.Dataset, granted);
    }

    private ScopedObjectStore ForMember(string dataset, AccessLevel level, string user)
    {
        var request = new PolicyRequest { Dataset = dataset, AccessLevel = level, User = user, OutputDir = "." };
        var registry = deployment.LoadRegistry();
        new DatasetExistsRule().Check(request, registry);
        new MembershipRule().Check(request, registry);
        return deployment.ScopedStore(dataset, level);
    }

    private (string Dataset, AccessLevel Level)? InferScope(string bucket)
    {
        foreach (var name in deployment.LoadRegistry().DatasetNames.OrderByDescending(n => n.Length))
            foreach (var level in new[] { AccessLevel.Test, AccessLevel.Standard })
                if (BucketLayout.BucketNames(name, level).Contains(bucket, StringComparer.Ordinal))
                    return (name, level);
        return null;
    }

    /// <summary>Every bucket name the user may use, for tab completion: their datasets at the levels they are members of.</summary>
    public static IEnumerable<string> BucketNamesFor(DatasetRegistry registry, string user) =>
        registry.DatasetNames
            .SelectMany(name => registry.Find(name)!.Members
                .Where(level => level.Value.Contains(user, Identity.Comparer))
                .SelectMany(level => BucketLayout.BucketNames(name, level.Key)))
            .Distinct(StringComparer.Ordinal);
}
