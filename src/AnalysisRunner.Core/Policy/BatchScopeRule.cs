using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Policy;

/// <summary>What a batch does with a location: reads it (Read-BatchInput), writes it (Write-BatchOutput), or keeps its jobs' resources under it.</summary>
public enum BatchLocationUse
{
    Input,
    Output,
    TmpRoot,
}

/// <summary>
/// Which locations a batch may read and write, checked at submit (BatchSubmitter) and again by the
/// executor when it maps them to files (ResourcePaths): a batch of a run only its run's buckets
/// (a test run its dataset's test buckets, standard and full the main ones); a batch outside any run
/// the buckets of the datasets its author is a member of (test buckets at test, main buckets at
/// standard or full), the scratch bucket local-tmp, and the author's own files outside the runner
/// home. Nothing inside the runner home but its buckets (registry, settings, keys, configs, the
/// database), and no bucket path that goes through a symbolic link.
/// </summary>
public sealed class BatchScopeRule(RunnerHome home, DatasetRegistry registry)
{
    /// <summary>Where a batch outside any run keeps its jobs' resources: a bucket no dataset scope covers.</summary>
    public const string OutsideRunTmpBucket = "local-tmp";

    public void Check(BatchScope scope, string location, BatchLocationUse use)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var bucket = BucketOf(location, use, scope);
        if (bucket is null) return;
        if (scope.Run is { } run)
        {
            var allowed = BucketLayout.BucketNames(run.Dataset, run.AccessLevel);
            if (allowed.Contains(bucket, StringComparer.Ordinal)) return;
            throw Refuse(use, location,
                $"run {run.ArGuid} is a {run.AccessLevel.ToConfigName()} run on {run.Dataset}, whose batches may use only {string.Join(", ", allowed.Select(b => "gs://" + b))}");
        }
        if (bucket == OutsideRunTmpBucket) return;
        foreach (var name in registry.DatasetNames.OrderByDescending(n => n.Length))
        {
            var entry = registry.Find(name)!;
            var levels = BucketLayout.BucketNames(name, AccessLevel.Test).Contains(bucket, StringComparer.Ordinal) ? new[] { AccessLevel.Test }
                : BucketLayout.BucketNames(name, AccessLevel.Standard).Contains(bucket, StringComparer.Ordinal) ? new[] { AccessLevel.Standard, AccessLevel.Full }
                : null;
            if (levels is null) continue;
            if (levels.Any(level => entry.Members[level].Contains(scope.Author, Identity.Comparer))) return;
            throw Refuse(use, location,
                $"the batch is outside any run, so its author's membership decides, and '{scope.Author}' is not in datasets.{name}.members.{levels[0].ToConfigName()} in {registry.SourceName}");
        }
        throw Refuse(use, location, $"bucket '{bucket}' belongs to no dataset in {registry.SourceName}");
    }

    /// <summary>The bucket a location is in; null for a file outside the runner home, which only a batch outside a run may use.</summary>
    private string? BucketOf(string location, BatchLocationUse use, BatchScope scope)
    {
        if (location.StartsWith("gs://", StringComparison.Ordinal))
        {
            // The executor reads and writes gs://b/k as H/buckets/b/k (the bucket itself on the local
            // backend, its cache on GCS), so a link there would take it elsewhere just the same.
            var uri = StorageUri.Parse(location);
            RefuseLinks(home.BucketsDirectory, uri.Bucket + "/" + uri.Key, location, use);
            return uri.Bucket;
        }
        var full = Path.GetFullPath(location);
        var buckets = home.BucketsDirectory.TrimEnd('/') + "/";
        if (full.StartsWith(buckets, StringComparison.Ordinal))
        {
            var relative = full[buckets.Length..];
            RefuseLinks(home.BucketsDirectory, relative, location, use);
            var slash = relative.IndexOf('/');
            return slash < 0 ? relative : relative[..slash];
        }
        // Judged by where it leads too: a link outside the home to its keys (or to a bucket, which would
        // bypass the bucket's scope) is the home's file all the same.
        if (full == home.Root || full.StartsWith(home.Root.TrimEnd('/') + "/", StringComparison.Ordinal) || Native.LinkFreePaths.LeadsInto(full, home.Root))
            throw new BatchValidationException("PathInRunnerHome", ErrorKind.PermissionDenied, location,
                $"'{location}' is inside the runner home ({home.Root}), which holds the registry, keys, configs and database; a batch may use only its buckets there (gs://…).");
        if (scope.Run is { } run)
            throw Refuse(use, location, $"a batch of run {run.ArGuid} reads and writes only its buckets (gs://…), not local files");
        return null;
    }

    /// <summary>A link inside the buckets folder (a job can make one in its own bucket) would take a copy anywhere it points.</summary>
    private static void RefuseLinks(string root, string relative, string location, BatchLocationUse use)
    {
        var current = root;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is not null)
                throw Refuse(use, location, $"'{current}' is a symbolic link, and the runner never reads or writes bucket objects through one");
            if (!Directory.Exists(current)) return;
        }
    }

    private static BatchValidationException Refuse(BatchLocationUse use, string location, string why) =>
        new(use switch
            {
                BatchLocationUse.Input => "InputOutsideScope",
                BatchLocationUse.Output => "OutputOutsideScope",
                _ => "TmpRootOutsideScope",
            }, ErrorKind.PermissionDenied, location,
            $"{use switch { BatchLocationUse.Input => "Input", BatchLocationUse.Output => "Output destination", _ => "Temporary root" }} '{location}' is outside the batch's scope: {why}.");
}
