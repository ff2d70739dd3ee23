using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Storage;

/// <summary>
/// The embedded backend: bucket b is the folder &lt;bucketsDirectory&gt;/b and key k the file under it;
/// file:// paths are files as they are. A write goes to a hidden temp file in the target's folder and
/// is renamed into place, so an interrupted write leaves no visible partial object, and listings
/// never show the temp files. GCS has no empty folders, so neither do listings here.
/// </summary>
internal sealed class LocalFolderStore : IObjectStore
{
    /// <summary>Names of in-flight writes; a store never lists or serves them.</summary>
    public const string TempFilePrefix = ".ar-tmp-";
    private const int BufferSize = 1 << 16;

    public LocalFolderStore(string bucketsDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bucketsDirectory);
        BucketsDirectory = Path.GetFullPath(bucketsDirectory);
    }

    public string BucketsDirectory { get; }

    /// <summary>The file (or folder, for a prefix) that holds <paramref name="uri"/>.</summary>
    public string LocalPathOf(StorageUri uri) => uri.Scheme == StorageScheme.File
        ? uri.LocalPath!
        : Path.Combine(BucketsDirectory, uri.Bucket, uri.Key);

    /// <summary>gs://bucket/key for a path inside the buckets folder (the run config's local bucket paths); null for any other path.</summary>
    public StorageUri? ToBucketUri(string absolutePath)
    {
        var full = Path.GetFullPath(absolutePath);
        var root = BucketsDirectory.TrimEnd('/') + "/";
        if (!full.StartsWith(root, StringComparison.Ordinal)) return null;
        var relative = full[root.Length..];
        if (relative.Length == 0) return null;
        if (absolutePath.EndsWith('/') && !relative.EndsWith('/')) relative += "/";
        var slash = relative.IndexOf('/');
        return slash < 0 ? StorageUri.Gs(relative, "") : StorageUri.Gs(relative[..slash], relative[(slash + 1)..]);
    }

    public Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        var path = ObjectPath(uri);
        if (InBuckets(path)) return Task.FromResult(OpenReadInBucket(uri, path));
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException && !File.Exists(path))
        {
            throw StorageErrors.NotFound(uri, ex);
        }
    }

    /// <summary>
    /// An object of a bucket, opened from its folder reached link-free and with O_NOFOLLOW: a job can
    /// make links in the buckets of its scope, and a read (by the executor, the server or a page) must
    /// not follow one to the runner's own files. Only a regular file is an object.
    /// </summary>
    private Stream OpenReadInBucket(StorageUri uri, string path)
    {
        var name = Path.GetFileName(path);
        try
        {
            using var folder = OpenFolder(uri, Path.GetDirectoryName(path)!, create: false, use: "read");
            return folder.KindOf(name) switch
            {
                LinkFreeFolder.EntryKind.File => folder.OpenRead(name, BufferSize),
                LinkFreeFolder.EntryKind.Link => throw LinkInBucket(uri, path, use: "read"),
                _ => throw StorageErrors.NotFound(uri),
            };
        }
        catch (LinkRefusedException ex)
        {
            throw LinkInBucket(uri, ex.LinkPath, ex, "read");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw StorageErrors.NotFound(uri, ex);
        }
    }

    /// <summary>
    /// Writes through a folder handle reached link-free (<see cref="OpenFolder"/>): the temporary is created with
    /// O_CREAT|O_EXCL|O_NOFOLLOW after whatever had its name is unlinked (not followed), and renamed within
    /// that folder. The executor writes a job's outputs here, as root, into folders the job can write, so a
    /// path is never trusted between a check and its use.
    /// </summary>
    public async Task<StorageObjectInfo> WriteAsync(StorageUri uri, Stream content, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= WriteOptions.Default;
        var path = ObjectPath(uri);
        var name = Path.GetFileName(path);
        if (name.StartsWith(TempFilePrefix, StringComparison.Ordinal))
            throw new StorageException("InvalidStoragePath", ErrorKind.InvalidArgument, uri.ToString(),
                $"'{uri}' uses the reserved name prefix '{TempFilePrefix}' (in-flight writes); choose another name.");
        var temporaryName = options.TemporaryName ?? Guid.NewGuid().ToString("N");
        if (temporaryName.Contains('/') || temporaryName is "." or "..")
            throw new ArgumentException($"A temporary name is one name in the target's folder, not '{temporaryName}'.", nameof(options));
        var temp = TempFilePrefix + temporaryName;

        using var folder = OpenFolder(uri, Path.GetDirectoryName(path)!, create: true);
        switch (folder.KindOf(name))
        {
            case LinkFreeFolder.EntryKind.Folder:
                throw Conflict(uri, "a folder of objects already has that name");
            case LinkFreeFolder.EntryKind.Link when InBuckets(path):
                throw LinkInBucket(uri, path);
            case not LinkFreeFolder.EntryKind.Missing when !options.Overwrite:
                throw StorageErrors.AlreadyExists(uri);
        }

        long length;
        DateTime modified;
        try
        {
            // A fixed temporary name (a copy repeated at recovery) may be left from before, or planted: the
            // entry is removed, never opened; O_EXCL then fails if anything takes the name meanwhile.
            folder.Remove(temp);
            await using (var target = folder.CreateNew(temp, BufferSize))
            {
                await StreamCopy.CopyAsync(content, target, options.Progress, cancellationToken).ConfigureAwait(false);
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
                target.Flush(flushToDisk: true);
                if (options.ReadOnly)
                    File.SetUnixFileMode(target.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                length = target.Length;
                modified = File.GetLastWriteTimeUtc(target.SafeFileHandle);
            }
            // overwrite: false is a no-clobber rename (RENAME_NOREPLACE), so two writers racing for a write-once key cannot both win.
            folder.Rename(temp, name, options.Overwrite);
        }
        catch (AlreadyThereException ex)
        {
            throw StorageErrors.AlreadyExists(uri, ex);
        }
        finally
        {
            TryRemove(folder, temp);
        }
        return new StorageObjectInfo(uri, length, new DateTimeOffset(modified, TimeSpan.Zero), null);
    }

    /// <summary>
    /// The folder <paramref name="folderPath"/> of <paramref name="uri"/>, held open: inside the buckets folder (a gs://
    /// URI, or a file:// path there, as the executor's output copies name it), reached from the buckets folder with no
    /// link anywhere on the way (LinkInBucket); any other file:// path, the folder as the host names it.
    /// </summary>
    private LinkFreeFolder OpenFolder(StorageUri uri, string folderPath, bool create, string use = "write")
    {
        try
        {
            return LinkFreeFolder.Open(folderPath, InBuckets(folderPath) ? BucketsDirectory : folderPath, create);
        }
        catch (LinkRefusedException ex)
        {
            throw LinkInBucket(uri, ex.LinkPath, ex, use);
        }
        catch (NotAFolderException ex)
        {
            throw Conflict(uri, "an object already has the name of one of its folders", ex);
        }
        catch (DirectoryNotFoundException ex) when (!create)
        {
            throw StorageErrors.NotFound(uri, ex);
        }
    }

    private bool InBuckets(string path)
    {
        var full = Path.GetFullPath(path);
        return full == BucketsDirectory || full.StartsWith(BucketsDirectory.TrimEnd('/') + "/", StringComparison.Ordinal);
    }

    private static StorageException LinkInBucket(StorageUri uri, string linkPath, Exception? inner = null, string use = "write") =>
        new("LinkInBucket", ErrorKind.PermissionDenied, linkPath,
            $"Cannot {use} '{uri}' on the local backend: '{linkPath}' is a symbolic link inside the bucket. The store never goes through a link below the buckets folder; remove the link.", inner);

    private static void TryRemove(LinkFreeFolder folder, string name)
    {
        try { folder.Remove(name); }
        catch (IOException) { /* a leftover hidden temp file is never listed or served */ }
    }

    public async IAsyncEnumerable<StorageEntry> ListAsync(StorageUri prefix, string? delimiter = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (delimiter is not (null or "/"))
            throw new StorageException("UnsupportedDelimiter", ErrorKind.InvalidArgument, delimiter,
                "The local store lists with no delimiter or with '/'.");
        var (root, keyPrefix) = ListingRoot(prefix);
        var slash = keyPrefix.LastIndexOf('/');
        var folderPart = slash < 0 ? "" : keyPrefix[..(slash + 1)];
        var folder = Path.Combine(root, folderPart);
        if (!Directory.Exists(folder)) yield break;
        // The folder listed is reached link-free too (entries below it are never followed: LinkFreeEnumeration).
        if (InBuckets(folder)) OpenFolder(prefix, folder, create: false, use: "list").Dispose();

        var entries = new List<(string Key, StorageEntry Entry)>();
        if (delimiter is null)
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", LinkFreeEnumeration.Recursive))
            {
                var key = Relative(root, file);
                if (key.StartsWith(keyPrefix, StringComparison.Ordinal) && !IsTemp(file))
                    entries.Add((key, StorageEntry.FromObject(Info(UriFor(prefix, key), new FileInfo(file)))));
            }
        }
        else
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", LinkFreeEnumeration.OneFolder))
            {
                var key = Relative(root, file);
                if (key.StartsWith(keyPrefix, StringComparison.Ordinal) && !IsTemp(file))
                    entries.Add((key, StorageEntry.FromObject(Info(UriFor(prefix, key), new FileInfo(file)))));
            }
            foreach (var sub in Directory.EnumerateDirectories(folder, "*", LinkFreeEnumeration.OneFolder))
            {
                var key = Relative(root, sub) + "/";
                if (key.StartsWith(keyPrefix, StringComparison.Ordinal) && HoldsObjects(sub))
                    entries.Add((key, StorageEntry.FromPrefix(UriFor(prefix, key))));
            }
        }
        foreach (var (_, entry) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return entry;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<bool> ExistsAsync(StorageUri uri, CancellationToken cancellationToken = default) =>
        Task.FromResult(!uri.IsPrefix && File.Exists(LocalPathOf(uri)) && !IsTemp(LocalPathOf(uri)));

    public Task<StorageObjectInfo> GetInfoAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        var path = ObjectPath(uri);
        var file = new FileInfo(path);
        if (!file.Exists || IsTemp(path)) throw StorageErrors.NotFound(uri);
        return Task.FromResult(Info(uri, file));
    }

    public Task DeleteAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        var path = ObjectPath(uri);
        if (!File.Exists(path) || IsTemp(path)) throw StorageErrors.NotFound(uri);
        // Removed by name from its folder reached link-free, so a link on the way cannot point the delete elsewhere.
        using var folder = OpenFolder(uri, Path.GetDirectoryName(path)!, create: false);
        if (folder.KindOf(Path.GetFileName(path)) is LinkFreeFolder.EntryKind.Link && InBuckets(path))
            throw LinkInBucket(uri, path);
        folder.Remove(Path.GetFileName(path));
        return Task.CompletedTask;
    }

    public async Task<StorageObjectInfo> CopyAsync(StorageUri source, StorageUri destination, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        await using var content = await OpenReadAsync(source, cancellationToken).ConfigureAwait(false);
        return await WriteAsync(destination, content, options, cancellationToken).ConfigureAwait(false);
    }

    private string ObjectPath(StorageUri uri)
    {
        if (uri.IsPrefix) throw StorageErrors.IsPrefix(uri);
        return LocalPathOf(uri);
    }

    /// <summary>The folder keys are relative to (a bucket folder, or "/" for files) and the key prefix inside it.</summary>
    private (string Root, string KeyPrefix) ListingRoot(StorageUri prefix) => prefix.Scheme == StorageScheme.Gs
        ? (Path.Combine(BucketsDirectory, prefix.Bucket), prefix.Key)
        : ("/", prefix.LocalPath!.TrimStart('/'));

    private static StorageUri UriFor(StorageUri prefix, string key) => prefix.Scheme == StorageScheme.Gs
        ? StorageUri.Gs(prefix.Bucket, key)
        : StorageUri.Parse("/" + key);

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');

    private static bool HoldsObjects(string folder) =>
        Directory.EnumerateFiles(folder, "*", LinkFreeEnumeration.Recursive).Any(file => !IsTemp(file));

    private static bool IsTemp(string path) => Path.GetFileName(path).StartsWith(TempFilePrefix, StringComparison.Ordinal);

    private static StorageObjectInfo Info(StorageUri uri, FileInfo file) =>
        new(uri, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero), null);

    private static StorageException Conflict(StorageUri uri, string why, Exception? inner = null) =>
        new("StoragePathConflict", ErrorKind.InvalidOperation, uri.ToString(),
            $"Cannot write '{uri}' on the local backend: {why}. A local bucket is a folder, so a name cannot be both an object and a folder.", inner);

}

/// <summary>Copies with a bounded buffer and progress reports, so large objects never sit in memory.</summary>
internal static class StreamCopy
{
    private const int BufferSize = 1 << 20;

    public static async Task<long> CopyAsync(Stream source, Stream destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
            progress?.Report(total);
        }
        return total;
    }
}
