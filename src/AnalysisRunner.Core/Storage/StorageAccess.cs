using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Storage;

/// <summary>
/// Who gets which scoped store. Outside a run, the caller names a dataset and access level and
/// must be a member at that level (the same registry rules as Submit-Analysis), because the store
/// uses the runner's key for that scope. Inside a job, the run (CPG_CONFIG_PATH) was authorised
/// when it was submitted, and its dataset and access level decide.
/// </summary>
public sealed class StorageAccess(Deployment deployment)
{
    /// <summary>
    /// The store for a command on <paramref name="path"/>: the named dataset, else the job's run,
    /// else the dataset and namespace its bucket name says (cpg-&lt;dataset&gt;-test… or -main…, at
    /// standard unless <paramref name="level"/> says full), so gsutil-style paths need no flags.
    /// </summary>
    public ScopedObjectStore For(StorageUri? path, string? dataset, AccessLevel? level, string user)
    {
        if (dataset is null && RunContext.FromEnvironment() is null && path is { Scheme: StorageScheme.Gs } && InferScope(path.Bucket) is { } inferred)
        {
            if (inferred.Level == AccessLevel.Test && level is { } asked && asked != AccessLevel.Test)
                throw new StorageException("AccessLevelMismatch", ErrorKind.InvalidArgument, path.ToString(),
                    $"'{path}' is a test bucket; use -AccessLevel test (or leave it out) for it.");
            return For(inferred.Dataset, inferred.Level == AccessLevel.Test ? AccessLevel.Test : level ?? AccessLevel.Standard, user);
        }
        return For(dataset, level, user);
    }

    public ScopedObjectStore For(string? dataset, AccessLevel? level, string user)
    {
        if (dataset is null)
        {
            var run = RunContext.FromEnvironment()
                ?? throw new StorageException("NoStorageScope", ErrorKind.InvalidArgument, null,
                    "Name the scope with -Dataset and -AccessLevel (inside a job the run's own is used, from CPG_CONFIG_PATH).");
            if (!run.Attributes.TryGetValue("dataset", out var runDataset) || !run.Attributes.TryGetValue("access_level", out var runLevel))
                throw new StorageException("NoStorageScope", ErrorKind.InvalidData, run.ConfigPath,
                    $"The run config '{run.ConfigPath}' has no workflow.dataset or workflow.access_level.");
            var parsed = AccessLevelNames.Parse(runLevel);
            if (level is { } asked && asked != parsed)
                throw new StorageException("AccessLevelMismatch", ErrorKind.PermissionDenied, asked.ToConfigName(),
                    $"This job's run is at access level {runLevel}; it cannot use storage at {asked.ToConfigName()}.");
            return deployment.ScopedStore(runDataset, parsed);
        }

        var request = new PolicyRequest { Dataset = dataset, AccessLevel = level ?? AccessLevel.Test, User = user, OutputDir = "." };
        var registry = deployment.LoadRegistry();
        new DatasetExistsRule().Check(request, registry);
        new MembershipRule().Check(request, registry);
        return deployment.ScopedStore(dataset, request.AccessLevel);
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
                .Where(level => level.Value.Contains(user, StringComparer.Ordinal))
                .SelectMany(level => BucketLayout.BucketNames(name, level.Key)))
            .Distinct(StringComparer.Ordinal);
}
