namespace AnalysisRunner.Core.Storage;

/// <summary>
/// What Get-StorageItem and Get-StorageContent need, whichever way they reach the buckets: in process
/// over a runner home (<see cref="ScopedStorageReader"/>) or through a server
/// (<see cref="Client.HttpStorageReader"/>). Chosen once per command; the cmdlets never ask which.
/// </summary>
public interface IStorageReader : IDisposable
{
    /// <summary>An object itself, or what is under a prefix (with <paramref name="recurse"/>, everything); nothing at all is ObjectNotFound.</summary>
    IAsyncEnumerable<StorageEntry> GetItemsAsync(StorageUri uri, bool recurse, CancellationToken cancellationToken = default);

    /// <summary>The object's bytes; the caller disposes the stream.</summary>
    Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default);
}

/// <summary>Reads over scoped stores in this process; <paramref name="storeFor"/> decides the scope of each path.</summary>
public sealed class ScopedStorageReader(Func<StorageUri, ScopedObjectStore> storeFor) : IStorageReader
{
    public IAsyncEnumerable<StorageEntry> GetItemsAsync(StorageUri uri, bool recurse, CancellationToken cancellationToken = default) =>
        StorageItems.GetAsync(storeFor(uri), uri, recurse, cancellationToken);

    public Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default) =>
        storeFor(uri).OpenReadAsync(uri, cancellationToken);

    public void Dispose()
    {
    }
}
