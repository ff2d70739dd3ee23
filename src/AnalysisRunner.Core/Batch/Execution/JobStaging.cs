using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// On the gcs backend the home's buckets folder is a cache of the buckets, laid out as gs://b/k →
/// H/buckets/b/k (the same mapping ResourcePaths uses). Before a job starts, what it reads from a bucket
/// (inputs, other jobs' resources) is downloaded into the cache if it is not there; after it succeeds,
/// its own resources go up to the run's tmp bucket and its outputs to their destinations. Transfers go
/// through the batch's scoped store, so a job cannot reach outside its dataset and namespace.
/// On the local backend the cache is the bucket and there is nothing to do.
/// </summary>
internal sealed class JobStaging(RunnerHome home, IObjectStore store, string? credentials)
{
    public const string CredentialsVariable = "GOOGLE_APPLICATION_CREDENTIALS";

    /// <summary>The key file of the batch's dataset × access level, the only one its jobs receive (null: none configured).</summary>
    public string? Credentials { get; } = credentials;

    /// <summary>Null on the local backend: staging is only needed where buckets are remote.</summary>
    public static Func<IReadOnlyDictionary<string, string>, JobStaging>? For(Deployment deployment)
    {
        var home = deployment.Home;
        if (!deployment.IsGcs) return null;
        return attributes =>
        {
            if (!attributes.TryGetValue("dataset", out var dataset) || !attributes.TryGetValue("access_level", out var levelName))
                return new JobStaging(home, deployment.Objects, null);
            var level = AccessLevelNames.Parse(levelName);
            return new JobStaging(home, deployment.ScopedStore(dataset, level), deployment.Settings.Storage.CredentialsFor(dataset, level));
        };
    }

    /// <summary>Fetches the bucket files a job reads that the cache does not hold yet.</summary>
    public void Download(IEnumerable<string> localPaths)
    {
        var staging = new StorageStaging(store);
        var missing = localPaths.Distinct(StringComparer.Ordinal)
            .Where(local => !File.Exists(local))
            .Select(local => (Local: local, Remote: RemoteFor(local)))
            .Where(item => item.Remote is not null)
            .ToList();
        // The executor prepares a job synchronously; this is its one wait for all the job's transfers.
        Transfer(missing, (item, token) => staging.DownloadAsync(item.Remote!, item.Local, cancellationToken: token));
    }

    /// <summary>
    /// Publishes the job's own resources (each file, or every file under a folder), then each output
    /// destination. The job may still be changing the cache (another job of the batch shares it), so
    /// nothing is read by path: folders are walked and files opened through descriptors reached from the
    /// buckets folder following no link (as OutputCopier does), and a link met on the way fails the upload
    /// instead of sending up whatever it points to (the runner's key, say).
    /// </summary>
    public void Upload(IEnumerable<string> resources, IEnumerable<string> outputDestinations)
    {
        var items = new List<(string Local, StorageUri Remote)>();
        foreach (var path in resources.Concat(outputDestinations))
            if (RemoteFor(path) is not null) CollectFiles(path, items);
        Transfer(items, async (item, token) =>
        {
            await using var content = OpenLinkFree(item.Local);
            return await store.WriteAsync(item.Remote, content, null, token).ConfigureAwait(false);
        });
    }

    /// <summary>The file at <paramref name="path"/>, or every file under the folder there, each with its object; nothing when it is missing.</summary>
    private void CollectFiles(string path, List<(string Local, StorageUri Remote)> items)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var parentPath = Path.GetDirectoryName(full);
        if (parentPath is null || !Directory.Exists(parentPath)) return;
        using var parent = Native.LinkFreeFolder.Open(parentPath, home.BucketsDirectory, create: false);
        var name = Path.GetFileName(full);
        switch (parent.KindOf(name))
        {
            case Native.LinkFreeFolder.EntryKind.Missing:
                return;
            case Native.LinkFreeFolder.EntryKind.Folder:
                using (var folder = parent.OpenFolder(name, create: false))
                    CollectFolder(folder, full, items);
                return;
            default:
                items.Add((full, RemoteFor(full)!));
                return;
        }
    }

    private void CollectFolder(Native.LinkFreeFolder folder, string folderPath, List<(string Local, StorageUri Remote)> items)
    {
        foreach (var name in folder.Names())
        {
            var path = folderPath + "/" + name;
            var kind = folder.KindOf(name);
            if (kind == Native.LinkFreeFolder.EntryKind.Folder)
            {
                using var sub = folder.OpenFolder(name, create: false);
                CollectFolder(sub, path, items);
            }
            else if (kind != Native.LinkFreeFolder.EntryKind.Missing)
            {
                // A link or special file is listed too: its open below refuses it, so the upload fails rather than skipping it quietly.
                items.Add((path, RemoteFor(path)!));
            }
        }
    }

    /// <summary>Opens a cache file O_NOFOLLOW through folders reached link-free from the buckets folder.</summary>
    private FileStream OpenLinkFree(string path)
    {
        using var parent = Native.LinkFreeFolder.Open(Path.GetDirectoryName(path)!, home.BucketsDirectory, create: false);
        return parent.OpenRead(Path.GetFileName(path), 1 << 16);
    }

    private const int ConcurrentTransfers = 4;

    private static void Transfer<T, TResult>(IReadOnlyList<T> items, Func<T, CancellationToken, Task<TResult>> transfer) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentTransfers },
            async (item, token) => await transfer(item, token).ConfigureAwait(false)).GetAwaiter().GetResult();

    private StorageUri? RemoteFor(string localPath)
    {
        var relative = Path.GetRelativePath(home.BucketsDirectory, localPath);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) return null;
        return StorageUri.Parse("gs://" + relative.Replace(Path.DirectorySeparatorChar, '/'));
    }
}
