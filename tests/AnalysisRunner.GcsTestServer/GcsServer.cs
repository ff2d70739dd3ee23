using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace AnalysisRunner.GcsTestServer;

/// <summary>
/// The GCS JSON API on 127.0.0.1 and a free port, in memory: what GcsStore (Google.Cloud.Storage.V1)
/// and the tests call. Tests start one in their own process (xunit) or as a child process (Pester,
/// through Program), so the gcs backend is tested from a fresh clone with nothing else installed.
/// </summary>
public sealed class GcsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GcsServer(WebApplication app, string root)
    {
        _app = app;
        Root = root;
    }

    /// <summary>The server's root, e.g. http://127.0.0.1:40123/.</summary>
    public string Root { get; }

    /// <summary>The JSON API base a StorageClientBuilder takes as BaseUri (settings.toml's [storage] endpoint).</summary>
    public string Endpoint => Root + "storage/v1/";

    public static async Task<GcsServer> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            // A resumable chunk is 10 MiB and a media upload can be anything: no cap, as GCS has none that tests reach.
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var api = new JsonApi(new Buckets());
        app.Run(api.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Urls.First().Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
        return new GcsServer(app, address.TrimEnd('/') + "/");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
