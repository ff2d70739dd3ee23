using System.Net;
using AnalysisRunner.Core.Tests.Server;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>The real server over a <see cref="WebWorld"/> home, with a token each for alice and bob.</summary>
public abstract class WebTest(PostgresFixture postgres) : IAsyncLifetime
{
    private RunningServer? _server;

    protected WebWorld World { get; } = new();
    protected RunningServer Server => _server!;
    protected string AliceToken { get; private set; } = "";
    protected string BobToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _server = await RunningServer.StartAsync(await postgres.CreateDatabaseAsync(), null, "--runner:home=" + World.HomePath);
        // Runs are added where the server keeps them: its PostgreSQL store, whose driver batches go to this home.
        World.Deployment.UseRunLog(new Core.Log.PostgresRunLog(Server.Database, new Core.Runs.HomeDriverBatches(World.Deployment)));
        AliceToken = (await Server.IssueAsync(WebWorld.Alice)).Token;
        BobToken = (await Server.IssueAsync(WebWorld.Bob)).Token;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        World.Dispose();
    }

    /// <summary>A browser signed in with <paramref name="token"/> (its session cookie), which does not follow redirects.</summary>
    protected HttpClient Browser(string? token)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Server.Address };
        if (token is not null) client.DefaultRequestHeaders.Add("Cookie", "ar_session=" + token);
        return client;
    }

    protected async Task<string> PageAsync(string token, string path)
    {
        using var client = Browser(token);
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode}\n{body}");
        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString());
        return body;
    }
}
