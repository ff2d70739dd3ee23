using System.Net;
using System.Runtime.CompilerServices;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Upload;
using Google.Cloud.Storage.V1;
using Object = Google.Apis.Storage.v1.Data.Object;

namespace AnalysisRunner.Core.Storage;

/// <summary>How to reach Google Cloud Storage; always from the deployment's settings, never from code.</summary>
public sealed record GcsStoreOptions
{
    /// <summary>The JSON API base, e.g. http://127.0.0.1:9199/storage/v1/ for the emulator; null for Google's.</summary>
    public string? Endpoint { get; init; }

    /// <summary>A service-account key file (JSON). Null with Unauthenticated false: application default credentials.</summary>
    public string? CredentialsPath { get; init; }

    /// <summary>No credentials at all (the emulator).</summary>
    public bool Unauthenticated { get; init; }

    /// <summary>Billed for requests (requester-pays buckets); optional.</summary>
    public string? Project { get; init; }
}

/// <summary>
/// Google Cloud Storage through Google.Cloud.Storage.V1. Uploads are resumable sessions: GCS makes
/// the object visible only when the final chunk is accepted, so an upload interrupted part-way (the
/// source stream throws, the process dies) leaves no object, partial or otherwise; write-once writes
/// add the ifGenerationMatch=0 precondition. Reads stream the media download over HTTP.
/// </summary>
public sealed class GcsStore : IObjectStore, IDisposable
{
    private readonly Lazy<StorageClient> _client;
    private readonly string? _project;

    /// <summary>Nothing is contacted or read (credentials included) until the first call.</summary>
    public GcsStore(GcsStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _client = new Lazy<StorageClient>(() => Connect(options));
        _project = options.Project;
    }

    private StorageClient Client => _client.Value;

    private static StorageClient Connect(GcsStoreOptions options)
    {
        var builder = new StorageClientBuilder();
        if (!string.IsNullOrWhiteSpace(options.Endpoint)) builder.BaseUri = options.Endpoint.TrimEnd('/') + "/";
        if (options.Unauthenticated) builder.UnauthenticatedAccess = true;
        else if (!string.IsNullOrWhiteSpace(options.CredentialsPath))
        {
            if (!File.Exists(options.CredentialsPath))
                throw new StorageException("CredentialsNotFound", ErrorKind.ObjectNotFound, options.CredentialsPath,
                    $"The service-account key file '{options.CredentialsPath}' named in settings.toml does not exist.");
            builder.GoogleCredential = CredentialFactory.FromFile<ServiceAccountCredential>(options.CredentialsPath).ToGoogleCredential();
        }
        try
        {
            return builder.Build();
        }
        catch (InvalidOperationException ex)
        {
            throw new StorageException("StorageCredentialsUnavailable", ErrorKind.PermissionDenied, options.Endpoint ?? "https://storage.googleapis.com",
                $"No credentials for Google Cloud Storage: {ex.Message} Set [storage] runner_credentials or dataset_credentials in settings.toml.", ex);
        }
    }

    public async Task<Stream> OpenReadAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        var (bucket, key) = ObjectName(uri);
        // Checking first turns a missing object into ObjectNotFound before any body is streamed.
        await GetInfoAsync(uri, cancellationToken).ConfigureAwait(false);
        var url = $"{Client.Service.BaseUri}b/{Uri.EscapeDataString(bucket)}/o/{Uri.EscapeDataString(key)}?alt=media"
            + (_project is null ? "" : $"&userProject={Uri.EscapeDataString(_project)}");
        var response = await Call(uri, () => Client.Service.HttpClient.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken))
            .ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw StorageErrors.NotFound(uri);
        }
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw Unavailable(uri, $"the download answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        return new Http.HttpResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
    }

    public async Task<StorageObjectInfo> WriteAsync(StorageUri uri, Stream content, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= WriteOptions.Default;
        var (bucket, key) = ObjectName(uri);
        // The precondition below is what makes write-once atomic on GCS; the check first gives the same
        // answer on servers that ignore preconditions (the emulator) and before any byte is sent.
        if (!options.Overwrite && await ExistsAsync(uri, cancellationToken).ConfigureAwait(false))
            throw StorageErrors.AlreadyExists(uri);
        var uploadOptions = new UploadObjectOptions
        {
            IfGenerationMatch = options.Overwrite ? null : 0,
            UserProject = _project,
        };
        var progress = options.Progress is null ? null : new Progress<IUploadProgress>(p => options.Progress.Report(p.BytesSent));
        var written = await Call(uri, () => Client.UploadObjectAsync(bucket, key, options.ContentType, content, uploadOptions, cancellationToken, progress),
            writing: true).ConfigureAwait(false);
        return Info(uri, written);
    }

    public async IAsyncEnumerable<StorageEntry> ListAsync(StorageUri prefix, string? delimiter = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prefix.Scheme != StorageScheme.Gs) throw StorageErrors.UnsupportedHere(prefix, "Google Cloud Storage");
        var pages = Client.ListObjectsAsync(prefix.Bucket, prefix.Key.Length == 0 ? null : prefix.Key,
            new ListObjectsOptions { Delimiter = delimiter, UserProject = _project }).AsRawResponses();
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            bool more;
            try
            {
                more = await enumerator.MoveNextAsync().ConfigureAwait(false);
            }
            catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
            {
                // A bucket with no objects (or none at all): an empty listing, as for the local store.
                yield break;
            }
            catch (Exception ex) when (ex is GoogleApiException or HttpRequestException)
            {
                throw Translate(prefix, ex, writing: false);
            }
            if (!more) yield break;
            var page = enumerator.Current;
            var entries = (page.Items ?? []).Select(o => (Key: o.Name, Entry: StorageEntry.FromObject(Info(StorageUri.Gs(prefix.Bucket, o.Name), o))))
                .Concat((page.Prefixes ?? []).Select(p => (Key: p, Entry: StorageEntry.FromPrefix(StorageUri.Gs(prefix.Bucket, p)))))
                .OrderBy(e => e.Key, StringComparer.Ordinal);
            foreach (var (_, entry) in entries) yield return entry;
        }
    }

    public async Task<bool> ExistsAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        try
        {
            await GetInfoAsync(uri, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StorageException ex) when (ex.ErrorId == "ObjectNotFound")
        {
            return false;
        }
    }

    public async Task<StorageObjectInfo> GetInfoAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        var (bucket, key) = ObjectName(uri);
        var found = await Call(uri, () => Client.GetObjectAsync(bucket, key, new GetObjectOptions { UserProject = _project }, cancellationToken))
            .ConfigureAwait(false);
        return Info(uri, found);
    }

    public async Task DeleteAsync(StorageUri uri, CancellationToken cancellationToken = default)
    {
        var (bucket, key) = ObjectName(uri);
        await Call(uri, async () =>
        {
            await Client.DeleteObjectAsync(bucket, key, new DeleteObjectOptions { UserProject = _project }, cancellationToken).ConfigureAwait(false);
            return true;
        }, writing: true).ConfigureAwait(false);
    }

    public async Task<StorageObjectInfo> CopyAsync(StorageUri source, StorageUri destination, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= WriteOptions.Default;
        var (sourceBucket, sourceKey) = ObjectName(source);
        var (bucket, key) = ObjectName(destination);
        var size = (await GetInfoAsync(source, cancellationToken).ConfigureAwait(false)).Size;
        if (!options.Overwrite && await ExistsAsync(destination, cancellationToken).ConfigureAwait(false))
            throw StorageErrors.AlreadyExists(destination);
        try
        {
            var copied = await Client.CopyObjectAsync(sourceBucket, sourceKey, bucket, key,
                new CopyObjectOptions { IfGenerationMatch = options.Overwrite ? null : 0, UserProject = _project }, cancellationToken).ConfigureAwait(false);
            options.Progress?.Report(size);
            return Info(destination, copied);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotImplemented)
        {
            // Servers without the copy call (the emulator) get the bytes streamed through this process instead.
        }
        catch (Exception ex) when (ex is GoogleApiException or HttpRequestException)
        {
            throw Translate(destination, ex, writing: true);
        }
        await using var content = await OpenReadAsync(source, cancellationToken).ConfigureAwait(false);
        return await WriteAsync(destination, content, options, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
    }

    private static (string Bucket, string Key) ObjectName(StorageUri uri)
    {
        if (uri.Scheme != StorageScheme.Gs) throw StorageErrors.UnsupportedHere(uri, "Google Cloud Storage");
        if (uri.IsPrefix) throw StorageErrors.IsPrefix(uri);
        return (uri.Bucket, uri.Key);
    }

    private static StorageObjectInfo Info(StorageUri uri, Object o) =>
        new(uri, (long)(o.Size ?? 0), o.UpdatedDateTimeOffset, string.IsNullOrEmpty(o.ContentType) ? null : o.ContentType);

    private static async Task<T> Call<T>(StorageUri uri, Func<Task<T>> call, bool writing = false)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is GoogleApiException or HttpRequestException)
        {
            throw Translate(uri, ex, writing);
        }
    }

    private static StorageException Translate(StorageUri uri, Exception ex, bool writing) => ex switch
    {
        GoogleApiException { HttpStatusCode: HttpStatusCode.NotFound } => StorageErrors.NotFound(uri, ex),
        GoogleApiException { HttpStatusCode: HttpStatusCode.PreconditionFailed } => StorageErrors.AlreadyExists(uri, ex),
        GoogleApiException { HttpStatusCode: HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized } =>
            new StorageException("StorageAccessDenied", ErrorKind.PermissionDenied, uri.ToString(),
                $"Google Cloud Storage refused to {(writing ? "change" : "read")} '{uri}' with the run's credentials: {((GoogleApiException)ex).Error?.Message ?? ex.Message}", ex),
        _ => Unavailable(uri, ex.Message, ex),
    };

    private static StorageException Unavailable(StorageUri uri, string why, Exception? inner = null) =>
        new("StorageUnavailable", ErrorKind.ResourceUnavailable, uri.ToString(),
            $"Google Cloud Storage could not be reached for '{uri}': {why}. Check [storage] endpoint and credentials in settings.toml.", inner);
}
