using System.Globalization;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Native;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// What happens after a job succeeds and before it counts as Succeeded: the copies are checked
/// against the batch's scope again (ResourcePaths.CheckCopies), its Write-BatchOutput resources are copied to their destinations, and on a cloud backend its resources and outputs go
/// up through the batch's scoped store. Run off the scheduler's thread, and again at recovery for a
/// job whose success was recorded but not yet published.
/// Every copy goes through the local store: into a temporary file in the destination's folder,
/// renamed into place once whole, so a copy that fails (a full disk) or is cut off (a killed
/// executor) never leaves a partial file under the destination's name, nor takes the previous one
/// away. The temporary name is fixed per attempt and output, so the copy repeated at recovery
/// replaces what a killed one left rather than leaving it behind.
/// </summary>
internal sealed class OutputCopier(LocalFolderStore local)
{
    /// <summary>Checks the copies against the batch's scope (the job ran in between), copies and uploads; returns why it failed, or null.</summary>
    public string? Publish(AttemptPlan plan)
    {
        var error = plan.Paths.CheckCopies(plan.Outputs, plan.Resources) ?? Copy(plan.Launch.Key, SourceRoot(plan.Paths.BatchRoot), plan.Outputs);
        if (error is not null || plan.Launch.Staging is null) return error;
        try
        {
            plan.Launch.Staging.Upload(plan.Resources, plan.Outputs.Select(output => output.Destination));
            return null;
        }
        catch (Exception e) when (e is AnalysisRunnerException or IOException)
        {
            return $"OutputUploadFailed: {e.Message}";
        }
    }

    /// <summary>
    /// Copies each output (a folder file by file); returns why one failed, or null. The job may still be
    /// changing its sources (another job of the batch shares the resource folder), so the check is in the
    /// use: every folder is walked through a descriptor reached link-free from above the batch's folder
    /// (<paramref name="sourceRoot"/>), every file is opened O_NOFOLLOW and must be a regular file (or the job's own FIFO) once open.
    /// A link, a device or a socket met on the way fails the copy; it is never followed or read.
    /// </summary>
    public string? Copy(AttemptKey key, string sourceRoot, IReadOnlyList<(string Source, string Destination)> outputs)
    {
        for (var i = 0; i < outputs.Count; i++)
        {
            var (source, destination) = outputs[i];
            try
            {
                var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source));
                var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(sourceRoot));
                var parentPath = Path.GetDirectoryName(full) ?? throw new IOException($"{full} is not a file or folder to copy.");
                var name = Path.GetFileName(full);
                using var parent = LinkFreeFolder.Open(parentPath, Under(parentPath, root) ? root : parentPath, create: false);
                var n = 0;
                if (parent.KindOf(name) == LinkFreeFolder.EntryKind.Folder)
                {
                    using var folder = parent.OpenFolder(name, create: false);
                    CopyFolder(key, i, folder, destination, ref n);
                }
                else
                {
                    CopyFile(key, i, parent, name, destination, ref n);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or AnalysisRunnerException)
            {
                return $"OutputCopyFailed: {source} → {destination}: {e.Message}";
            }
        }
        return null;
    }

    private void CopyFolder(AttemptKey key, int output, LinkFreeFolder folder, string destination, ref int n)
    {
        foreach (var name in folder.Names())
        {
            switch (folder.KindOf(name))
            {
                case LinkFreeFolder.EntryKind.Folder:
                    using (var sub = folder.OpenFolder(name, create: false))
                        CopyFolder(key, output, sub, Path.Combine(destination, name), ref n);
                    break;
                case LinkFreeFolder.EntryKind.Missing:
                    break; // removed since the listing: there is nothing to copy
                default:
                    // A link or a special file is refused by OpenRead itself, so a swap after KindOf changes nothing.
                    CopyFile(key, output, folder, name, Path.Combine(destination, name), ref n);
                    break;
            }
        }
    }

    private void CopyFile(AttemptKey key, int output, LinkFreeFolder folder, string name, string target, ref int n)
    {
        using var content = folder.OpenRead(name, 1 << 16);
        var temporary = string.Create(CultureInfo.InvariantCulture, $"output-{key.BatchId}-{key.JobId}-{key.Attempt}-{output}-{n++}");
        local.WriteAsync(StorageUri.Parse(target), content, new WriteOptions { TemporaryName = temporary }).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Where a source walk starts following no link: the buckets folder when the batch's folder is in a local
    /// bucket (a job may write its tmp bucket, so even the folders above its batch's are not trusted), else
    /// the folder above the batch's (a cache folder of the gcs backend, the runner's own).
    /// </summary>
    private string SourceRoot(string batchRoot)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(batchRoot));
        var buckets = Path.TrimEndingDirectorySeparator(local.BucketsDirectory);
        return Under(full, buckets) ? buckets : Path.GetDirectoryName(full) ?? full;
    }

    private static bool Under(string path, string folder) =>
        path == folder || path.StartsWith(folder + "/", StringComparison.Ordinal) || folder == "/";
}
