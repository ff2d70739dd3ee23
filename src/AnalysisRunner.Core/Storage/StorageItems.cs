using System.Runtime.CompilerServices;

namespace AnalysisRunner.Core.Storage;

/// <summary>What Get-StorageItem and Remove-StorageItem mean by a path, gsutil's way.</summary>
public static class StorageItems
{
    /// <summary>
    /// An object gives itself; a prefix (or a name that is only a "folder") gives what is directly
    /// under it, or everything under it with <paramref name="recurse"/>. Nothing at all is ObjectNotFound.
    /// </summary>
    public static async IAsyncEnumerable<StorageEntry> GetAsync(IObjectStore store, StorageUri uri, bool recurse,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!uri.IsPrefix && await store.ExistsAsync(uri, cancellationToken).ConfigureAwait(false))
        {
            yield return StorageEntry.FromObject(await store.GetInfoAsync(uri, cancellationToken).ConfigureAwait(false));
            yield break;
        }
        var any = false;
        await foreach (var entry in store.ListAsync(uri.AsPrefix(), recurse ? null : "/", cancellationToken).ConfigureAwait(false))
        {
            any = true;
            yield return entry;
        }
        // An empty bucket root is an empty listing; a name with nothing under it is a mistake worth saying.
        if (!any && uri.Key.Length > 0) throw StorageErrors.NotFound(uri);
    }

    /// <summary>The objects a removal would delete: the object itself, or with <paramref name="recurse"/> every object under the prefix.</summary>
    public static async Task<IReadOnlyList<StorageUri>> ObjectsToRemoveAsync(IObjectStore store, StorageUri uri, bool recurse, CancellationToken cancellationToken = default)
    {
        if (!uri.IsPrefix && await store.ExistsAsync(uri, cancellationToken).ConfigureAwait(false)) return [uri];
        var found = new List<StorageUri>();
        await foreach (var entry in store.ListAsync(uri.AsPrefix(), null, cancellationToken).ConfigureAwait(false)) found.Add(entry.Uri);
        if (found.Count == 0) throw StorageErrors.NotFound(uri);
        if (!recurse)
            throw new StorageException("RecurseRequired", ErrorKind.InvalidArgument, uri.ToString(),
                $"'{uri}' is a folder (prefix) holding {found.Count} object(s); add -Recurse to remove them all.");
        return found;
    }
}
