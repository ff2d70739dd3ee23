using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// Get-StorageItem and Get-StorageContent through a server: it decides the scope from the token's
/// user (the -Dataset/-AccessLevel given here can only say which scope is meant, as in process), and
/// its refusals come back as the exceptions the in-process reader throws (same ErrorId and kind).
/// </summary>
public sealed class HttpStorageReader(ServerConnection connection, string? dataset, AccessLevel? accessLevel)
    : RunnerHttpClient(connection), IStorageReader
{
    public async IAsyncEnumerable<StorageEntry> GetItemsAsync(StorageUri uri, bool recurse,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        do
        {
            var page = await SendAsync<StoragePage>(HttpMethod.Get, StorageRoutes.Items + Query(
                ("path", uri.ToString()), ("delimiter", recurse ? null : "/"), ("dataset", dataset),
                ("accessLevel", accessLevel?.ToConfigName()), ("after", after)), null, cancellationToken);
            foreach (var item in page.Items) yield return item.ToEntry();
            // A cursor that does not move on would ask for the same page for ever.
            if (page.NextCursor is { } next && after is not null && string.CompareOrdinal(next, after) <= 0)
                throw new AnalysisRunnerException("InvalidServerResponse", ErrorKind.InvalidData, Connection.Server.ToString(),
                    $"{Connection.Server} answered a listing of '{uri}' with a next page ('{next}') that does not come after '{after}'.");
            after = page.NextCursor;
        } while (after is not null);
    }

    public Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default) =>
        OpenStreamAsync(StorageRoutes.Content + Query(("path", uri.ToString()), ("dataset", dataset),
            ("accessLevel", accessLevel?.ToConfigName())), cancellationToken);
}
