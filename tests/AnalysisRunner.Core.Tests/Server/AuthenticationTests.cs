using System.Net;
using System.Net.Http.Json;
using System.Text;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>Identity comes from the bearer token only; everything an attacker could put elsewhere is ignored or refused.</summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class AuthenticationTests(PostgresFixture postgres) : ServerTest(postgres)
{
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);

    protected override TimeProvider Clock => _clock;

    [BackendFact]
    public async Task A_request_without_a_token_is_401_TokenMissing_with_a_bearer_challenge()
    {
        using var response = await Server.Client().GetAsync(ApiRoutes.WhoAmI);
        var problem = await ProblemAssert.IsProblemAsync(response, 401, "TokenMissing", ErrorKind.AuthenticationError);
        Assert.Equal("Bearer realm=\"AnalysisRunner\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(ApiRoutes.WhoAmI, problem.GetProperty("instance").GetString());
        Assert.Contains("New-AnalysisRunnerToken", problem.GetProperty("detail").GetString());
    }

    [BackendFact]
    public async Task Forged_tokens_are_401_TokenInvalid()
    {
        var real = await Server.IssueAsync("alice@lab.org");
        // A made-up secret, the stored hash of a real one (a stolen table), a real one under another scheme, junk.
        foreach (var (scheme, value) in new[]
                 {
                     ("Bearer", TokenSecret.New()), ("Bearer", TokenSecret.Hash(real.Token)), ("Basic", real.Token), ("Bearer", "alice@lab.org"),
                 })
        {
            using var client = Server.Client();
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"{scheme} {value}");
            using var response = await client.GetAsync(ApiRoutes.WhoAmI);
            await ProblemAssert.IsProblemAsync(response, 401, "TokenInvalid", ErrorKind.AuthenticationError);
            Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [BackendFact]
    public async Task A_valid_token_is_its_user_and_nothing_in_the_request_can_say_otherwise()
    {
        var alice = await Server.IssueAsync("alice@lab.org");
        using var client = Server.Client(alice.Token);
        client.DefaultRequestHeaders.Add("X-User", "bob@lab.org");
        client.DefaultRequestHeaders.Add("X-Forwarded-User", "bob@lab.org");

        var caller = await client.GetFromJsonAsync<CallerInfo>(ApiRoutes.WhoAmI + "?user=bob@lab.org", ApiJson.Options);

        Assert.Equal("alice@lab.org", caller!.User);
        Assert.Equal(alice.Id, caller.TokenId);
        Assert.False(caller.Admin);
    }

    [BackendFact]
    public async Task A_body_naming_another_user_or_the_admin_role_is_ignored()
    {
        var alice = await Server.IssueAsync("alice@lab.org");
        using var client = Server.Client(alice.Token);

        using var response = await client.PostAsync(ApiRoutes.Tokens,
            new StringContent("""{"user":"bob@lab.org","User":"bob@lab.org","admin":true,"description":"second laptop"}""",
                Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var issued = (await response.Content.ReadFromJsonAsync<IssuedToken>(ApiJson.Options))!;
        Assert.Equal("alice@lab.org", issued.User);
        Assert.False(issued.Admin);
        var caller = await Server.Client(issued.Token).GetFromJsonAsync<CallerInfo>(ApiRoutes.WhoAmI, ApiJson.Options);
        Assert.Equal("alice@lab.org", caller!.User);
        Assert.Empty(await Server.Tokens.ListAsync(new TokenQuery { User = "bob@lab.org", IncludeInactive = true }));
    }

    [BackendFact]
    public async Task An_expired_token_is_401_TokenExpired()
    {
        var alice = await Server.IssueAsync("alice@lab.org", expiresAt: _clock.GetUtcNow().AddHours(1));
        using var client = Server.Client(alice.Token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(ApiRoutes.WhoAmI)).StatusCode);

        _clock.Advance(TimeSpan.FromHours(1));

        using var response = await client.GetAsync(ApiRoutes.WhoAmI);
        var problem = await ProblemAssert.IsProblemAsync(response, 401, "TokenExpired", ErrorKind.AuthenticationError);
        Assert.Contains(alice.Id, problem.GetProperty("detail").GetString());
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
    }

    [BackendFact]
    public async Task A_revoked_token_is_401_TokenRevoked()
    {
        var alice = await Server.IssueAsync("alice@lab.org");
        using var client = Server.Client(alice.Token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(ApiRoutes.WhoAmI)).StatusCode);

        await Server.Tokens.RevokeAsync(alice.Id);

        await ProblemAssert.IsProblemAsync(await client.GetAsync(ApiRoutes.WhoAmI), 401, "TokenRevoked", ErrorKind.AuthenticationError);
    }

    [BackendFact]
    public async Task A_token_issued_by_a_token_expires_no_later_than_it()
    {
        var alice = await Server.IssueAsync("alice@lab.org", expiresAt: _clock.GetUtcNow().AddHours(1));
        using var response = await Server.Client(alice.Token).PostAsJsonAsync(ApiRoutes.Tokens,
            new OwnTokenRequest { ExpiresAt = _clock.GetUtcNow().AddDays(30) }, ApiJson.Options);
        var issued = (await response.Content.ReadFromJsonAsync<IssuedToken>(ApiJson.Options))!;
        Assert.Equal(alice.ExpiresAt, issued.ExpiresAt);
    }

    [BackendFact]
    public async Task Admin_routes_are_403_AdminRoleRequired_for_other_users_and_write_nothing()
    {
        var alice = await Server.IssueAsync("alice@lab.org");
        var bob = await Server.IssueAsync("bob@lab.org");
        using var client = Server.Client(alice.Token);
        async Task<List<TokenInfo>> Snapshot() => (await Server.Tokens.ListAsync(new TokenQuery { IncludeInactive = true }))
            .Select(t => t with { LastUsedAt = null }).ToList();
        var before = await Snapshot();

        foreach (var request in new Func<Task<HttpResponseMessage>>[]
                 {
                     () => client.PostAsJsonAsync(ApiRoutes.AdminTokens, new AdminTokenRequest { User = "alice@lab.org", Admin = true }, ApiJson.Options),
                     () => client.GetAsync(ApiRoutes.AdminTokens),
                     () => client.DeleteAsync(ApiRoutes.AdminTokens + "/" + bob.Id),
                     () => client.DeleteAsync(ApiRoutes.AdminTokens + "?user=bob@lab.org"),
                 })
        {
            using var response = await request();
            var problem = await ProblemAssert.IsProblemAsync(response, 403, "AdminRoleRequired", ErrorKind.PermissionDenied);
            Assert.Equal("alice@lab.org", problem.GetProperty("target").GetString());
        }

        Assert.Equal(before, await Snapshot());
        Assert.Equal(TokenState.Active, (await Server.Tokens.FindAsync(bob.Id))!.State);
    }

    [BackendFact]
    public async Task A_user_cannot_revoke_someone_elses_token_by_its_id()
    {
        var alice = await Server.IssueAsync("alice@lab.org");
        var bob = await Server.IssueAsync("bob@lab.org");

        using var response = await Server.Client(alice.Token).DeleteAsync(ApiRoutes.Tokens + "/" + bob.Id);

        await ProblemAssert.IsProblemAsync(response, 404, "TokenNotFound", ErrorKind.ObjectNotFound);
        Assert.Equal(HttpStatusCode.OK, (await Server.Client(bob.Token).GetAsync(ApiRoutes.WhoAmI)).StatusCode);
        using var own = await Server.Client(alice.Token).DeleteAsync(ApiRoutes.Tokens + "/" + alice.Id);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Client(alice.Token).GetAsync(ApiRoutes.WhoAmI)).StatusCode);
    }

    [BackendFact]
    public async Task An_admin_token_manages_other_users_tokens()
    {
        var admin = await Server.IssueAsync("root@lab.org", admin: true);
        using var client = Server.Client(admin.Token);

        using var created = await client.PostAsJsonAsync(ApiRoutes.AdminTokens, new AdminTokenRequest { User = "Bob@Lab.org" }, ApiJson.Options);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var bob = (await created.Content.ReadFromJsonAsync<IssuedToken>(ApiJson.Options))!;
        Assert.Equal("bob@lab.org", (await Server.Tokens.AuthenticateAsync(bob.Token)).User);
        Assert.Equal("root@lab.org", (await Server.Tokens.FindAsync(bob.Id))!.CreatedBy);

        var listed = await client.GetFromJsonAsync<List<TokenInfo>>(ApiRoutes.AdminTokens + "?user=bob@lab.org", ApiJson.Options);
        Assert.Equal([bob.Id], listed!.Select(t => t.Id));

        using var revoked = await client.DeleteAsync(ApiRoutes.AdminTokens + "?user=bob@lab.org");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        await ProblemAssert.IsProblemAsync(await Server.Client(bob.Token).GetAsync(ApiRoutes.WhoAmI), 401, "TokenRevoked", ErrorKind.AuthenticationError);
    }
}
