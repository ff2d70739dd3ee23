namespace AnalysisRunner.Core.Storage;

/// <summary>
/// A store narrowed to what one dataset at one access level may use: the buckets of its
/// <see cref="BucketLayout"/> and nothing else (no other dataset, no other namespace, no local files).
/// At standard, objects in those (main) buckets are never deleted or replaced: deleting is what
/// makes full dangerous. Every refusal happens before the inner store is called, so nothing is written.
/// </summary>
public sealed class ScopedObjectStore : IObjectStore
{
    private readonly IObjectStore _inner;
    private readonly HashSet<string> _buckets;

    public ScopedObjectStore(IObjectStore inner, string dataset, AccessLevel accessLevel)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Dataset = dataset;
        AccessLevel = accessLevel;
        AllowedBuckets = BucketLayout.BucketNames(dataset, accessLevel);
        _buckets = new HashSet<string>(AllowedBuckets, StringComparer.Ordinal);
    }

    public string Dataset { get; }
    public AccessLevel AccessLevel { get; }
    public IReadOnlyList<string> AllowedBuckets { get; }

    /// <summary>Only full deletes or replaces objects; test runs own their test buckets outright.</summary>
    public bool MayDelete => AccessLevel != AccessLevel.Standard;

    public Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default) =>
        _inner.OpenReadAsync(Allowed(uri, "read"), cancellationToken);

    public async Task<StorageObjectInfo> WriteAsync(StorageUri uri, Stream content, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Allowed(uri, "write");
        return await Guarded(uri, options, o => _inner.WriteAsync(uri, content, o, cancellationToken)).ConfigureAwait(false);
    }

    public IAsyncEnumerable<StorageEntry> ListAsync(StorageUri prefix, string? delimiter = null, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(Allowed(prefix, "list"), delimiter, cancellationToken);

    public Task<bool> ExistsAsync(StorageUri uri, CancellationToken cancellationToken = default) =>
        _inner.ExistsAsync(Allowed(uri, "read"), cancellationToken);

    public Task<StorageObjectInfo> GetInfoAsync(StorageUri uri, CancellationToken cancellationToken = default) =>
        _inner.GetInfoAsync(Allowed(uri, "read"), cancellationToken);

    public Task DeleteAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        Allowed(uri, "delete");
        if (!MayDelete)
            throw new StorageException("DeleteNotAllowed", ErrorKind.PermissionDenied, uri.ToString(),
                $"Access level standard may not delete '{uri}' from the {Dataset} main buckets; deleting there needs -AccessLevel full.");
        return _inner.DeleteAsync(uri, cancellationToken);
    }

    public async Task<StorageObjectInfo> CopyAsync(StorageUri source, StorageUri destination, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Allowed(source, "read");
        Allowed(destination, "write");
        return await Guarded(destination, options, o => _inner.CopyAsync(source, destination, o, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Where this scope may not delete, a write may not replace either (replacing deletes the old object).</summary>
    private async Task<StorageObjectInfo> Guarded(StorageUri target, WriteOptions? options, Func<WriteOptions, Task<StorageObjectInfo>> write)
    {
        options ??= WriteOptions.Default;
        if (MayDelete || !options.Overwrite) return await write(options).ConfigureAwait(false);
        try
        {
            return await write(options with { Overwrite = false }).ConfigureAwait(false);
        }
        catch (StorageException ex) when (ex.ErrorId == "ObjectAlreadyExists")
        {
            throw ReplaceRefused(target, ex);
        }
    }

    /// <summary>Whether this scope may use <paramref name="uri"/> at all (for completers and previews; the operations check again).</summary>
    public bool IsAllowed(StorageUri uri) => uri.Scheme == StorageScheme.Gs && _buckets.Contains(uri.Bucket);

    private StorageUri Allowed(StorageUri uri, string action)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (IsAllowed(uri)) return uri;
        var what = uri.Scheme == StorageScheme.Gs ? $"bucket '{uri.Bucket}'" : "a local file";
        throw new StorageException("BucketNotAllowed", ErrorKind.PermissionDenied, uri.ToString(),
            $"A {AccessLevel.ToConfigName()} run on {Dataset} may not {action} '{uri}' ({what} is outside its scope). " +
            $"It may use: {string.Join(", ", AllowedBuckets.Select(b => "gs://" + b))}.");
    }

    private StorageException ReplaceRefused(StorageUri uri, Exception inner) =>
        new("DeleteNotAllowed", ErrorKind.PermissionDenied, uri.ToString(),
            $"'{uri}' already exists, and replacing it deletes the old object: access level standard may not do that in the {Dataset} main buckets. " +
            "Write to a new name, or use -AccessLevel full.", inner);
}
