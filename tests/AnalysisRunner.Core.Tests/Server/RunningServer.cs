using System.Net.Http.Headers;
using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>The real server (Kestrel, PostgreSQL, migrations) on a free port of 127.0.0.1, for one test.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The server's services, for a test that reaches into them (a fault to inject, a retry to watch).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The server's own store (and clock), for setting up tokens as an admin would.</summary>
    public ITokenStore Tokens => _app.Services.GetRequiredService<ITokenStore>();

    /// <summary>The server's PostgreSQL database, for a test that writes runs where the server keeps them.</summary>
    public Core.Postgres.PostgresDatabase Database => _app.Services.GetRequiredService<Core.Postgres.PostgresDatabase>();

    public static async Task<RunningServer> StartAsync(string connectionString, TimeProvider? clock = null, params string[] settings)
    {
        string[] args = ["--server:urls=http://127.0.0.1:0", "--database:connection_string=" + connectionString, .. settings];
        var app = ServerHost.Build(args, builder =>
        {
            if (clock is not null) builder.Services.AddSingleton(clock);
        });
        await ServerHost.StartAsync(app);
        return new RunningServer(app, ServerHost.Addresses(app).Single());
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task<IssuedToken> IssueAsync(string user, bool admin = false, DateTimeOffset? expiresAt = null) =>
        await Tokens.IssueAsync(new TokenRequest { User = user, Admin = admin, ExpiresAt = expiresAt });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
