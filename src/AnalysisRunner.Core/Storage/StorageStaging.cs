namespace AnalysisRunner.Core.Storage;

/// <summary>
/// Moves bytes between this machine's files and a store: what a job's inputs and outputs, and
/// Copy-StorageItem, need. gs:// locations go through the store (scoped, for a run); file://
/// locations are local files on every backend. A local file being written is a hidden temp file
/// in the target folder until it is complete, like a store object.
/// </summary>
public sealed class StorageStaging(IObjectStore store)
{
    /// <summary>Copies one object to a local file (folders are created); returns the bytes copied.</summary>
    public async Task<long> DownloadAsync(StorageUri source, string localPath, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var target = Path.GetFullPath(localPath);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, LocalFolderStore.TempFilePrefix + Guid.NewGuid().ToString("N"));
        try
        {
            long copied;
            await using (var content = await store.OpenReadAsync(source, cancellationToken).ConfigureAwait(false))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                copied = await StreamCopy.CopyAsync(content, file, progress, cancellationToken).ConfigureAwait(false);
            File.Move(temp, target, overwrite: true);
            return copied;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Copies one local file to an object.</summary>
    public async Task<StorageObjectInfo> UploadAsync(string localPath, StorageUri destination, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        var source = Path.GetFullPath(localPath);
        if (!File.Exists(source))
            throw new StorageException("ObjectNotFound", ErrorKind.ObjectNotFound, localPath, $"No file at '{localPath}' to upload.");
        await using var content = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await store.WriteAsync(destination, content, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What copying <paramref name="source"/> to <paramref name="destination"/> means, one step per
    /// object or file: a prefix or folder needs <paramref name="recurse"/>; a destination that ends in
    /// '/' or is an existing folder receives the source under its own name.
    /// </summary>
    public async Task<IReadOnlyList<CopyStep>> PlanCopyAsync(StorageUri source, StorageUri destination, bool recurse, CancellationToken cancellationToken = default)
    {
        var steps = new List<CopyStep>();
        if (source.Scheme == StorageScheme.File)
        {
            var path = source.LocalPath!.TrimEnd('/');
            if (File.Exists(path))
            {
                steps.Add(new CopyStep(StorageUri.Parse(path), Into(destination, Path.GetFileName(path)), new FileInfo(path).Length));
                return steps;
            }
            if (!Directory.Exists(path))
                throw new StorageException("ObjectNotFound", ErrorKind.ObjectNotFound, source.ToString(), $"No file or folder at '{source}'.");
            if (!recurse) throw RecurseRequired(source);
            var name = Path.GetFileName(path);
            // Links below the folder are not copied (nor followed: a linked folder could loop, or reach far outside it).
            foreach (var file in Directory.EnumerateFiles(path, "*", LinkFreeEnumeration.Recursive).Order(StringComparer.Ordinal))
            {
                if (Path.GetFileName(file).StartsWith(LocalFolderStore.TempFilePrefix, StringComparison.Ordinal)) continue;
                var relative = Path.GetRelativePath(path, file).Replace('\\', '/');
                steps.Add(new CopyStep(StorageUri.Parse(file), IntoFolder(destination, name).Combine(relative), new FileInfo(file).Length));
            }
            return steps;
        }

        if (!source.IsPrefix && await store.ExistsAsync(source, cancellationToken).ConfigureAwait(false))
        {
            var info = await store.GetInfoAsync(source, cancellationToken).ConfigureAwait(false);
            steps.Add(new CopyStep(source, Into(destination, source.Name), info.Size));
            return steps;
        }
        var prefix = source.AsPrefix();
        var found = new List<StorageEntry>();
        await foreach (var entry in store.ListAsync(prefix, null, cancellationToken).ConfigureAwait(false)) found.Add(entry);
        if (found.Count == 0) throw StorageErrors.NotFound(source);
        if (!recurse) throw RecurseRequired(source);
        var baseFolder = IntoFolder(destination, prefix.Name);
        foreach (var entry in found)
            steps.Add(new CopyStep(entry.Uri, baseFolder.Combine(entry.Uri.Key[prefix.Key.Length..]), entry.Size ?? 0));
        return steps;
    }

    /// <summary>Runs one step: upload, download, or an object copy inside the store.</summary>
    public async Task<CopyStep> CopyAsync(CopyStep step, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= WriteOptions.Default;
        switch (step.Source.Scheme, step.Destination.Scheme)
        {
            case (StorageScheme.File, StorageScheme.File):
                throw new StorageException("UnsupportedCopy", ErrorKind.InvalidArgument, step.Source.ToString(),
                    "Copy-StorageItem copies to or from a bucket; use Copy-Item between local files.");
            case (StorageScheme.File, StorageScheme.Gs):
                await UploadAsync(step.Source.LocalPath!, step.Destination, options, cancellationToken).ConfigureAwait(false);
                break;
            case (StorageScheme.Gs, StorageScheme.File):
                if (!options.Overwrite && File.Exists(step.Destination.LocalPath)) throw StorageErrors.AlreadyExists(step.Destination);
                await DownloadAsync(step.Source, step.Destination.LocalPath!, options.Progress, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await store.CopyAsync(step.Source, step.Destination, options, cancellationToken).ConfigureAwait(false);
                break;
        }
        return step;
    }

    private static StorageUri Into(StorageUri destination, string name) =>
        destination.IsPrefix || (destination.Scheme == StorageScheme.File && Directory.Exists(destination.LocalPath))
            ? destination.AsPrefix().Combine(name)
            : destination;

    /// <summary>gsutil cp -r semantics: into an existing folder or a '/'-ended destination, the source keeps its name.</summary>
    private static StorageUri IntoFolder(StorageUri destination, string name) =>
        destination.IsPrefix || (destination.Scheme == StorageScheme.File && Directory.Exists(destination.LocalPath))
            ? destination.AsPrefix().Combine(name + "/")
            : destination.AsPrefix();

    private static StorageException RecurseRequired(StorageUri source) =>
        new("RecurseRequired", ErrorKind.InvalidArgument, source.ToString(),
            $"'{source}' is a folder (prefix) of objects; add -Recurse to copy everything under it.");
}

/// <summary>One object or file to copy, and its size for progress.</summary>
public sealed record CopyStep(StorageUri Source, StorageUri Destination, long Size);
