using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>Requests the server refuses before they reach any store: each a problem detail with an ErrorId, and nothing written.</summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class RequestRefusalTests(PostgresFixture postgres) : ServerTest(postgres)
{
    private const long BodyLimit = 4096;
    private IssuedToken? _admin;

    protected override string[] Settings => [$"--server:max_request_body_bytes={BodyLimit}"];

    protected override async Task OnStartedAsync() => _admin = await Server.IssueAsync("root@lab.org", admin: true);

    private Task<IReadOnlyList<TokenInfo>> AllTokens() => Server.Tokens.ListAsync(new TokenQuery { IncludeInactive = true });

    [BackendFact]
    public async Task Malformed_json_is_400_MalformedJson_and_writes_nothing()
    {
        using var client = Server.Client(_admin!.Token);
        foreach (var body in new[] { "{\"user\": \"bob@lab.org\"", "not json", "{\"user\": \"bob@lab.org\", \"expiresAt\": \"next tuesday\"}", "[1,2]" })
        {
            using var response = await client.PostAsync(ApiRoutes.AdminTokens, new StringContent(body, Encoding.UTF8, "application/json"));
            await ProblemAssert.IsProblemAsync(response, 400, "MalformedJson", ErrorKind.InvalidArgument);
        }
        Assert.Single(await AllTokens());
    }

    [BackendFact]
    public async Task A_body_over_the_configured_limit_is_413_RequestBodyTooLarge_and_writes_nothing()
    {
        using var client = Server.Client(_admin!.Token);
        var json = JsonSerializer.Serialize(new AdminTokenRequest { User = "bob@lab.org", Description = new string('x', (int)BodyLimit) });

        using var declared = await client.PostAsync(ApiRoutes.AdminTokens, new StringContent(json, Encoding.UTF8, "application/json"));
        var problem = await ProblemAssert.IsProblemAsync(declared, 413, "RequestBodyTooLarge", ErrorKind.LimitsExceeded);
        Assert.Equal(BodyLimit, problem.GetProperty("target").GetInt64());

        // Without a Content-Length the limit is met while reading.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiRoutes.AdminTokens) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(streamed, 413, "RequestBodyTooLarge", ErrorKind.LimitsExceeded);

        Assert.Single(await AllTokens());

        // Just under the limit is served.
        var fits = JsonSerializer.Serialize(new AdminTokenRequest { User = "bob@lab.org", Description = new string('x', (int)BodyLimit - 100) });
        using var accepted = await client.PostAsync(ApiRoutes.AdminTokens, new StringContent(fits, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    [BackendFact]
    public async Task Errors_from_Core_keep_their_ErrorId_kind_and_target()
    {
        using var client = Server.Client(_admin!.Token);

        using var badUser = await client.PostAsJsonAsync(ApiRoutes.AdminTokens, new AdminTokenRequest { User = "not-an-email" }, ApiJson.Options);
        var problem = await ProblemAssert.IsProblemAsync(badUser, 400, "InvalidTokenUser", ErrorKind.InvalidArgument);
        Assert.Equal("not-an-email", problem.GetProperty("target").GetString());
        Assert.Equal("urn:analysis-runner:error:InvalidTokenUser", problem.GetProperty("type").GetString());

        using var missing = await client.DeleteAsync(ApiRoutes.AdminTokens + "/0000000000000000");
        Assert.Equal("0000000000000000",
            (await ProblemAssert.IsProblemAsync(missing, 404, "TokenNotFound", ErrorKind.ObjectNotFound)).GetProperty("target").GetString());
    }

    [BackendFact]
    public async Task Unknown_routes_and_methods_are_problems_too()
    {
        using var client = Server.Client(_admin!.Token);
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/v1/nothing-here"), 404, "EndpointNotFound", ErrorKind.ObjectNotFound);
        await ProblemAssert.IsProblemAsync(await client.PutAsync(ApiRoutes.WhoAmI, null), 405, "MethodNotAllowed", ErrorKind.InvalidArgument);
    }

    [BackendFact]
    public async Task The_OpenAPI_document_describes_the_api_and_its_bearer_scheme_without_a_token()
    {
        using var response = await Server.Client().GetAsync(ApiRoutes.OpenApi);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { ApiRoutes.Health, ApiRoutes.WhoAmI, ApiRoutes.Tokens, ApiRoutes.AdminTokens })
            Assert.True(paths.TryGetProperty(path, out _), $"the document has no {path}");
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
    }
}
