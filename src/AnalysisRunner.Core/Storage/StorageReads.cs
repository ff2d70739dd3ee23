namespace AnalysisRunner.Core.Storage;

/// <summary>
/// What reading a bucket over the server's API may name: gs:// paths only (the server never reads its
/// own files for a caller), a delimiter of '/' or none, and a bounded page of a listing that goes on
/// after a path (keyset: the listing is in path order, so a page never repeats or skips an entry).
/// </summary>
public static class StorageReads
{
    /// <summary>The path a request named, parsed; a local path or another scheme is refused before any scope is looked at.</summary>
    public static StorageUri ParseBucketPath(string? path)
    {
        var uri = StorageUri.Parse(path ?? "");
        if (!uri.IsBucketObject)
            throw new StorageException("UnsupportedScheme", ErrorKind.InvalidArgument, path,
                $"'{path}' is a local path; the server only reads bucket objects (gs://bucket/key). Copy-StorageItem copies objects to local files.");
        return uri;
    }

    /// <summary>True for '/' (fold sub-prefixes, as Get-StorageItem does), false for none (everything under the prefix, -Recurse).</summary>
    public static bool Recurse(string? delimiter) => delimiter switch
    {
        null or "" => true,
        "/" => false,
        _ => throw new StorageException("UnsupportedDelimiter", ErrorKind.InvalidArgument, delimiter,
            $"The delimiter '{delimiter}' is not supported; use '/' (or none, for everything under the prefix)."),
    };

    public static int PageSize(int? first) => first switch
    {
        null => Http.StorageRoutes.MaxPageSize,
        >= 1 and <= Http.StorageRoutes.MaxPageSize => first.Value,
        _ => throw new StorageException("InvalidPageSize", ErrorKind.InvalidArgument, first,
            $"A page holds 1 to {Http.StorageRoutes.MaxPageSize} entries; {first} is not in that range."),
    };

    /// <summary>
    /// Up to <paramref name="first"/> entries of what Get-StorageItem gives for <paramref name="uri"/>
    /// (<see cref="StorageItems.GetAsync"/>) whose path sorts after <paramref name="after"/>, and the
    /// cursor of the next page when there is more.
    /// </summary>
    public static async Task<Http.StoragePage> PageAsync(IObjectStore store, StorageUri uri, bool recurse, string? after, int first,
        CancellationToken cancellationToken = default)
    {
        var items = new List<Http.StorageEntryDocument>();
        await foreach (var entry in StorageItems.GetAsync(store, uri, recurse, cancellationToken).ConfigureAwait(false))
        {
            if (after is not null && string.CompareOrdinal(entry.Path, after) <= 0) continue;
            if (items.Count == first) return new Http.StoragePage(items, items[^1].Path);
            items.Add(Http.StorageEntryDocument.From(entry));
        }
        return new Http.StoragePage(items, null);
    }
}
