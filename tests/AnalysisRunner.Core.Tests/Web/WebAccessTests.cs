using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Tests.Server;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>A member of one dataset sees nothing of another, on every page, file, stream and read endpoint; sessions come only from a token.</summary>
[RequiresPostgres]
[Collection(PostgresWebCollection.Name)]
public sealed class WebAccessTests(PostgresFixture postgres) : WebTest(postgres)
{
    [BackendFact]
    public async Task A_non_member_gets_403_on_every_page_file_and_log_stream_of_the_dataset()
    {
        var run = await World.AddRunAsync();
        var sub = await World.AddSubBatchAsync(run, "echo secret output");
        World.WaitForBatch(sub);
        Directory.CreateDirectory(World.WebBucket("fewgenomes", "test"));
        File.WriteAllText(Path.Combine(World.WebBucket("fewgenomes", "test"), "report.html"), "<p>secret report</p>");

        string[] paths =
        [
            "/analysis-runner/fewgenomes-test", "/analysis-runner/fewgenomes-main",
            $"/batches/{run.DriverBatchId}", $"/batches/{sub}", $"/batches/{sub}/jobs/1",
            $"/batches/{sub}/jobs/2/attempts/1/stdout/events", $"/configs/{run.ArGuid}",
            "/web/fewgenomes/test/report.html", "/usage/fewgenomes",
        ];
        using var bob = Browser(BobToken);
        foreach (var path in paths)
        {
            using var response = await bob.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"GET {path}: {(int)response.StatusCode}");
            Assert.DoesNotContain("secret", body);
            Assert.Contains("data-error-id=\"NotADatasetMember\"", body);
        }
    }

    [BackendFact]
    public async Task A_non_member_gets_403_NotADatasetMember_from_every_read_endpoint()
    {
        var run = await World.AddRunAsync();
        string[] paths =
        [
            "/api/v1/datasets/fewgenomes/test/runs", $"/api/v1/batches/{run.DriverBatchId}",
            $"/api/v1/batches/{run.DriverBatchId}/jobs/1", $"/api/v1/runs/{run.ArGuid}/config",
        ];
        using var bob = Server.Client(BobToken);
        using var alice = Server.Client(AliceToken);
        foreach (var path in paths)
        {
            using var refused = await bob.GetAsync(path);
            await ProblemAssert.IsProblemAsync(refused, 403, "NotADatasetMember", ErrorKind.PermissionDenied);
            using var allowed = await alice.GetAsync(path);
            Assert.True(allowed.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)allowed.StatusCode} {await allowed.Content.ReadAsStringAsync()}");
        }
    }

    [BackendFact]
    public async Task An_unknown_dataset_answers_as_one_the_caller_is_not_a_member_of()
    {
        using var alice = Browser(AliceToken);
        using var unknown = await alice.GetAsync("/analysis-runner/nosuchdataset-test");
        using var other = await alice.GetAsync("/analysis-runner/othergenomes-test");

        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [BackendFact]
    public async Task The_session_cookie_never_authenticates_the_JSON_API()
    {
        // A cookie rides along on any site's request; the bearer header cannot, so only the header opens the API.
        var run = await World.AddRunAsync();
        using var cookieOnApi = await Browser(AliceToken).GetAsync($"/api/v1/batches/{run.DriverBatchId}");
        using var cookieOnTokens = await Browser(AliceToken).PostAsync("/api/v1/tokens", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(cookieOnApi, 401, "TokenMissing", ErrorKind.AuthenticationError);
        await ProblemAssert.IsProblemAsync(cookieOnTokens, 401, "TokenMissing", ErrorKind.AuthenticationError);
    }

    [BackendFact]
    public async Task A_page_takes_only_the_session_cookie_not_the_bearer_header()
    {
        var run = await World.AddRunAsync();
        using var client = Browser(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AliceToken);

        using var response = await client.GetAsync($"/batches/{run.DriverBatchId}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin", response.Headers.Location!.OriginalString);
    }

    [BackendFact]
    public async Task A_revoked_token_ends_its_session_at_once()
    {
        var issued = await Server.IssueAsync(WebWorld.Alice);
        using var browser = Browser(issued.Token);
        using (var before = await browser.GetAsync("/")) Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await Server.Tokens.RevokeAsync(issued.Id);

        using var after = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
    }

    [BackendFact]
    public async Task Signing_in_with_the_form_sets_an_HttpOnly_SameSite_Strict_cookie_and_goes_back_only_to_a_local_path()
    {
        foreach (var (returnUrl, expected) in new[] { ("/batches/7", "/batches/7"), ("//evil.example/x", "/"), ("/\\evil.example", "/"), ("https://evil.example", "/") })
        {
            using var browser = new SignInBrowser(Server.Address);
            var response = await browser.SignInAsync(AliceToken, returnUrl);

            Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
            Assert.Equal(expected, response.Headers.Location!.OriginalString);
            var cookie = response.Headers.GetValues("Set-Cookie").Single(value => value.StartsWith("ar_session=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
        }
    }

    [BackendFact]
    public async Task Signing_in_with_a_bad_token_is_401_and_sets_no_session()
    {
        using var browser = new SignInBrowser(Server.Address);
        var response = await browser.SignInAsync("not-a-token", "/");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("ar_session=", StringComparison.Ordinal)));
    }

    [BackendFact]
    public async Task A_sign_in_or_sign_out_posted_without_the_forms_antiforgery_token_is_refused()
    {
        using var client = Browser(null);
        using var signIn = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = AliceToken }));
        using var signedIn = Browser(AliceToken);
        using var signOut = await signedIn.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string>()));

        Assert.Equal(HttpStatusCode.BadRequest, signIn.StatusCode);
        Assert.False(signIn.Headers.Contains("Set-Cookie") && signIn.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("ar_session=", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.BadRequest, signOut.StatusCode);
    }

    /// <summary>A browser that keeps cookies, to fill in the sign-in form with the antiforgery token it carries.</summary>
    private sealed class SignInBrowser(Uri address) : IDisposable
    {
        private readonly HttpClient _client = new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = address };

        public async Task<HttpResponseMessage> SignInAsync(string token, string returnUrl)
        {
            var form = await _client.GetStringAsync("/signin?returnUrl=" + Uri.EscapeDataString(returnUrl));
            var antiforgery = Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
            return await _client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = antiforgery, ["token"] = token, ["returnUrl"] = returnUrl,   // as an attacker would post it, not as the form cleaned it
            }));
        }

        public void Dispose() => _client.Dispose();
    }
}
