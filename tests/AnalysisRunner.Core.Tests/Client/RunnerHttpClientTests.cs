using System.Net;
using System.Net.Sockets;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.Server;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Core.Tests.Client;

/// <summary>The client base against the real server: the token goes along, and problems come back as the embedded mode's exceptions.</summary>
[RequiresPostgres]
[Collection(PostgresClientCollection.Name)]
public sealed class RunnerHttpClientTests(PostgresFixture postgres) : ServerTest(postgres)
{

    private RunnerHttpClient Client(string? token) => new(new ServerConnection(Server.Address, token));

    [BackendFact]
    public async Task WhoAmI_and_health_round_trip()
    {
        var alice = await Server.IssueAsync("alice@lab.org", expiresAt: DateTimeOffset.UtcNow.AddDays(1));
        using var client = Client(alice.Token);

        var caller = await client.WhoAmIAsync();
        Assert.Equal(("alice@lab.org", alice.Id, false, alice.ExpiresAt), (caller.User, caller.TokenId, caller.Admin, caller.ExpiresAt));
        Assert.Equal("healthy", (await Client(null).GetHealthAsync()).Status);
    }

    [BackendFact]
    public async Task Missing_and_forged_tokens_become_AuthenticationError_exceptions()
    {
        using var anonymous = Client(null);
        var missing = await Assert.ThrowsAsync<ServerProblemException>(() => anonymous.WhoAmIAsync());
        Assert.Equal(("TokenMissing", ErrorKind.AuthenticationError, 401), (missing.ErrorId, missing.Kind, missing.Status));
        Assert.Contains("bearer token", missing.Message);

        using var forged = Client(TokenSecret.New());
        var invalid = await Assert.ThrowsAsync<ServerProblemException>(() => forged.WhoAmIAsync());
        Assert.Equal(("TokenInvalid", ErrorKind.AuthenticationError), (invalid.ErrorId, invalid.Kind));
    }

    [BackendFact]
    public async Task A_refusal_by_the_server_is_the_same_exception_as_in_embedded_mode()
    {
        var alice = await Server.IssueAsync("alice@lab.org");
        using var client = new TokenAdminClient(new ServerConnection(Server.Address, alice.Token));

        var forbidden = await Assert.ThrowsAsync<ServerProblemException>(() => client.IssueAsync(new TokenRequest { User = "alice@lab.org", Admin = true }));
        Assert.Equal(("AdminRoleRequired", ErrorKind.PermissionDenied, "alice@lab.org", 403),
            (forbidden.ErrorId, forbidden.Kind, forbidden.Target as string, forbidden.Status));

        var admin = await Server.IssueAsync("root@lab.org", admin: true);
        using var adminClient = new TokenAdminClient(new ServerConnection(Server.Address, admin.Token));
        var notFound = await Assert.ThrowsAsync<ServerProblemException>(() => adminClient.RevokeAsync("feedfeedfeedfeed"));
        var embedded = await Assert.ThrowsAsync<AnalysisRunnerException>(() => Server.Tokens.RevokeAsync("feedfeedfeedfeed"));
        Assert.Equal((embedded.ErrorId, embedded.Kind, embedded.Target, embedded.Message), (notFound.ErrorId, notFound.Kind, notFound.Target, notFound.Message));
    }

    [BackendFact]
    public async Task An_admin_client_issues_lists_and_revokes()
    {
        var admin = await Server.IssueAsync("root@lab.org", admin: true);
        using var client = new TokenAdminClient(new ServerConnection(Server.Address, admin.Token));

        var bob = await client.IssueAsync(new TokenRequest { User = "bob@lab.org", Description = "cluster" });
        Assert.Equal("bob@lab.org", (await Server.Tokens.AuthenticateAsync(bob.Token)).User);
        Assert.Equal([bob.Id], (await client.ListAsync(new TokenQuery { User = "bob@lab.org" })).Select(t => t.Id));
        Assert.Equal(TokenState.Revoked, (await client.RevokeAsync(bob.Id)).State);
        Assert.Empty(await client.ListAsync(new TokenQuery { User = "bob@lab.org" }));
        Assert.Equal(TokenState.Revoked, (await client.ListAsync(new TokenQuery { User = "bob@lab.org", IncludeInactive = true })).Single().State);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_ServerUnreachable()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var client = new RunnerHttpClient(new ServerConnection(new Uri($"http://127.0.0.1:{port}/"), null));
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => client.GetHealthAsync());
        Assert.Equal(("ServerUnreachable", ErrorKind.ResourceUnavailable), (error.ErrorId, error.Kind));
    }
}
