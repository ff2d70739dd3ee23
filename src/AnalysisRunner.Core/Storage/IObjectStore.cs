namespace AnalysisRunner.Core.Storage;

/// <summary>
/// Buckets of objects, whatever keeps them (a folder under the runner home, Google Cloud Storage).
/// Content always streams: nothing here holds a whole object in memory. A write is all or nothing:
/// until it returns, no reader or listing sees the new object (or a partial one).
/// Missing objects throw StorageException "ObjectNotFound" naming the path.
/// </summary>
public interface IObjectStore
{
    /// <summary>Opens an object for reading; the caller disposes the stream.</summary>
    Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="content"/> (read to its end) as the object at <paramref name="uri"/>.</summary>
    Task<StorageObjectInfo> WriteAsync(StorageUri uri, Stream content, WriteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Objects whose key starts with the prefix, in key order. With a delimiter ("/"), keys that have
    /// it after the prefix are folded into one <see cref="StorageEntry"/> per prefix, as gsutil ls does.
    /// </summary>
    IAsyncEnumerable<StorageEntry> ListAsync(StorageUri prefix, string? delimiter = null, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(StorageUri uri, CancellationToken cancellationToken = default);

    Task<StorageObjectInfo> GetInfoAsync(StorageUri uri, CancellationToken cancellationToken = default);

    Task DeleteAsync(StorageUri uri, CancellationToken cancellationToken = default);

    /// <summary>Copies one object inside the store (bucket to bucket, on the server where it can).</summary>
    Task<StorageObjectInfo> CopyAsync(StorageUri source, StorageUri destination, WriteOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>How a write lands.</summary>
public sealed record WriteOptions
{
    public static WriteOptions Default { get; } = new();

    /// <summary>Replace an existing object (gsutil cp does). False: refuse with "ObjectAlreadyExists" and leave it as it was.</summary>
    public bool Overwrite { get; init; } = true;

    public string? ContentType { get; init; }

    /// <summary>
    /// Local backend: the file is made read-only (0444) so a job cannot change it in place.
    /// GCS objects are immutable anyway, so there it changes nothing.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>Told the bytes written so far, for Write-Progress on large copies.</summary>
    public IProgress<long>? Progress { get; init; }

    /// <summary>
    /// Local backend: the in-flight file's name (after the reserved prefix) instead of a random one, so
    /// a writer that repeats a write after a crash (the executor's output copy) replaces its own
    /// leftover rather than leaving it behind. GCS uploads leave no partial object, so there it changes nothing.
    /// </summary>
    public string? TemporaryName { get; init; }
}

/// <summary>What a store knows about one object.</summary>
public sealed record StorageObjectInfo(StorageUri Uri, long Size, DateTimeOffset? Updated, string? ContentType)
{
    public string Path => Uri.ToString();
    public string Name => Uri.Name;
}

/// <summary>One line of a listing: an object, or (with a delimiter) a prefix that holds more objects.</summary>
public sealed record StorageEntry(StorageUri Uri, bool IsPrefix, long? Size, DateTimeOffset? Updated, string? ContentType)
{
    public string Path => Uri.ToString();

    public string Name => IsPrefix ? Uri.Name + "/" : Uri.Name;

    public static StorageEntry FromObject(StorageObjectInfo info) => new(info.Uri, false, info.Size, info.Updated, info.ContentType);

    public static StorageEntry FromPrefix(StorageUri prefix) => new(prefix, true, null, null, null);
}

internal static class StorageErrors
{
    public static StorageException NotFound(StorageUri uri, Exception? inner = null) =>
        new("ObjectNotFound", ErrorKind.ObjectNotFound, uri.ToString(),
            $"No object at '{uri}'; Get-StorageItem '{ParentOf(uri)}' lists what is there.", inner);

    public static StorageException AlreadyExists(StorageUri uri, Exception? inner = null) =>
        new("ObjectAlreadyExists", ErrorKind.InvalidOperation, uri.ToString(),
            $"An object already exists at '{uri}' and this write may not replace it.", inner);

    public static StorageException IsPrefix(StorageUri uri) =>
        new("NotAnObject", ErrorKind.InvalidArgument, uri.ToString(),
            $"'{uri}' names a prefix (it ends in '/'), not an object; name the object, or list the prefix with Get-StorageItem.");

    public static StorageException UnsupportedHere(StorageUri uri, string backend) =>
        new("UnsupportedScheme", ErrorKind.InvalidArgument, uri.ToString(),
            $"'{uri}' is a local file; the {backend} store only holds gs:// objects. Copy-StorageItem copies between files and buckets.");

    private static string ParentOf(StorageUri uri)
    {
        var text = uri.ToString().TrimEnd('/');
        var slash = text.LastIndexOf('/');
        return slash > "gs://".Length ? text[..(slash + 1)] : text;
    }
}
