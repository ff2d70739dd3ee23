using System.Net;
using System.Text.RegularExpressions;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>
/// The embedded web (AnalysisRunner.Server embedded) over a runner home whose settings map this OS
/// account to alice: a browser signs in with the one-time link printed on the console, and with
/// nothing else; the link works once; the identity is the OS account's, with alice's memberships.
/// </summary>
[RequiresChromium]
public sealed partial class EmbeddedWebTests : IAsyncLifetime
{
    private readonly WebWorld _world = new();
    private readonly StringWriter _console = new();
    private WebApplication? _app;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        File.AppendAllText(Path.Combine(_world.HomePath, "settings.toml"),
            $"\n[identity.users]\n\"{Environment.UserName}\" = \"{WebWorld.Alice}\"\n");
        _app = EmbeddedWeb.Build(["--runner:home=" + _world.HomePath, "--server:urls=http://127.0.0.1:0"], _console);
        await EmbeddedWeb.StartAsync(_app);
        _address = ServerHost.Addresses(_app).Single();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _world.Dispose();
    }

    [GeneratedRegex(@"Sign in \(one browser, once\): (\S+)")]
    private static partial Regex SignInLine();

    /// <summary>The links printed so far, oldest first.</summary>
    private List<string> PrintedLinks() => SignInLine().Matches(_console.ToString()).Select(match => match.Groups[1].Value).ToList();

    private HttpClient Browser(string? cookie = null)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _address };
        if (cookie is not null) client.DefaultRequestHeaders.Add("Cookie", cookie);
        return client;
    }

    /// <summary>Follows a sign-in link; returns the response and the session cookie it set ("name=value"), if any.</summary>
    private async Task<(HttpResponseMessage Response, string? Cookie)> FollowAsync(string link)
    {
        using var browser = Browser();
        var response = await browser.GetAsync(link);
        var setCookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.SingleOrDefault(v => v.StartsWith("ar_session=", StringComparison.Ordinal)) : null;
        return (response, setCookie?.Split(';')[0]);
    }

    [Fact]
    public async Task The_printed_link_signs_a_browser_in_once_as_the_os_accounts_email_with_an_httponly_samesite_cookie()
    {
        var run = await _world.AddRunAsync(description: "alice's embedded run");
        var link = PrintedLinks().Single();
        Assert.StartsWith(new Uri(_address, "/signin/link?secret=").ToString(), link);

        var (signedIn, cookie) = await FollowAsync(link);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location?.ToString());
        var setCookie = signedIn.Headers.GetValues("Set-Cookie").Single(v => v.StartsWith("ar_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("no-referrer", signedIn.Headers.GetValues("Referrer-Policy").Single());

        using var browser = Browser(cookie);
        using var page = await browser.GetAsync("/analysis-runner/fewgenomes-test");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(run.ArGuid, await page.Content.ReadAsStringAsync());
        // alice is no member of othergenomes: the identity is the OS account's email, with its memberships only.
        using var other = await browser.GetAsync("/analysis-runner/othergenomes-test");
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        // The session is a token of the home's store, for alice: Revoke-AnalysisRunnerToken can end it.
        var tokens = await _world.Deployment.Tokens.ListAsync(new Core.Tokens.TokenQuery { User = WebWorld.Alice });
        Assert.Single(tokens);

        var (again, againCookie) = await FollowAsync(link);
        Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        Assert.Contains("data-error-id=\"SignInLinkInvalid\"", await again.Content.ReadAsStringAsync());
        Assert.Null(againCookie);
        // The next browser gets the fresh link printed after the first was spent, once too.
        var next = PrintedLinks();
        Assert.Equal(2, next.Count);
        Assert.NotEqual(link, next[1]);
        Assert.Equal(HttpStatusCode.SeeOther, (await FollowAsync(next[1])).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await FollowAsync(next[1])).Response.StatusCode);
    }

    [Theory]
    [InlineData("/signin/link")]
    [InlineData("/signin/link?secret=")]
    [InlineData("/signin/link?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_forged_or_missing_secret_is_403_and_signs_nothing_in_and_leaves_the_real_link_working(string forged)
    {
        var (response, cookie) = await FollowAsync(forged);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(cookie);
        Assert.Equal(HttpStatusCode.SeeOther, (await FollowAsync(PrintedLinks().Single())).Response.StatusCode);
    }

    [Fact]
    public async Task A_link_with_the_secret_changed_by_one_character_is_refused()
    {
        var link = PrintedLinks().Single();
        var forged = link[..^1] + (link[^1] == 'A' ? 'B' : 'A');
        Assert.Equal(HttpStatusCode.Forbidden, (await FollowAsync(forged)).Response.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/analysis-runner/fewgenomes-test")]
    [InlineData("/batches/1")]
    [InlineData("/batches/1/jobs/1")]
    [InlineData("/configs/00000000-0000-0000-0000-000000000000")]
    [InlineData("/usage/fewgenomes")]
    [InlineData("/web/fewgenomes/test/index.html")]
    public async Task Without_signing_in_every_page_sends_the_browser_to_sign_in(string path)
    {
        using var browser = Browser();
        using var response = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin?returnUrl=", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_forged_session_cookie_is_not_a_session()
    {
        using var browser = Browser("ar_session=art_" + new string('A', 43));
        using var response = await browser.GetAsync("/analysis-runner/fewgenomes-test");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task A_token_of_the_home_for_anyone_but_the_local_user_signs_nothing_in_and_the_local_users_own_does()
    {
        var bob = await _world.Deployment.Tokens.IssueAsync(new Core.Tokens.TokenRequest { User = WebWorld.Bob });
        using (var asBob = Browser("ar_session=" + bob.Token))
        using (var refused = await asBob.GetAsync("/analysis-runner/othergenomes-test"))
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);

        var alice = await _world.Deployment.Tokens.IssueAsync(new Core.Tokens.TokenRequest { User = WebWorld.Alice });
        using var asAlice = Browser("ar_session=" + alice.Token);
        using var page = await asAlice.GetAsync("/analysis-runner/fewgenomes-test");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task There_is_no_api_in_the_embedded_web()
    {
        var (_, cookie) = await FollowAsync(PrintedLinks().Single());
        using var browser = Browser(cookie);
        using var response = await browser.GetAsync("/api/v1/runs");
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [BackendFact]
    [Trait("Category", "Browser")]
    [Trait(TestCategory.Name, TestCategory.Slow)]
    public async Task Chromium_opens_the_printed_link_lands_signed_in_and_the_same_link_in_another_browser_is_refused()
    {
        var run = await _world.AddRunAsync(description: "embedded in chromium");
        var link = PrintedLinks().Single();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = RequiresChromiumAttribute.ExecutablePath,
            Args = ["--no-sandbox"],
        });
        var page = await (await BrowserDeadlines.NewContextAsync(browser)).NewPageAsync();
        await BrowserDeadlines.OpenAsync(page, link);
        await BrowserDeadlines.WaitForPathAsync(page, "/");
        await BrowserDeadlines.OpenAsync(page, new Uri(_address, "/analysis-runner/fewgenomes-test").ToString());
        await Assertions.Expect(page.Locator($"tr[data-ar-guid='{run.ArGuid}'] td.description")).ToHaveTextAsync("embedded in chromium");

        var stranger = await (await BrowserDeadlines.NewContextAsync(browser)).NewPageAsync();
        var refused = await BrowserDeadlines.OpenAsync(stranger, link);
        Assert.Equal(403, refused!.Status);
        await Assertions.Expect(stranger.Locator("p.error")).ToHaveAttributeAsync("data-error-id", "SignInLinkInvalid");
        await BrowserDeadlines.OpenAsync(stranger, new Uri(_address, "/analysis-runner/fewgenomes-test").ToString());
        Assert.Contains("/signin?returnUrl=", stranger.Url);
    }

    [Fact]
    public void An_os_account_the_home_does_not_map_to_an_email_is_refused_at_start_naming_the_settings_file()
    {
        using var unmapped = new WebWorld();
        var error = Assert.Throws<AnalysisRunnerException>(() =>
            EmbeddedWeb.Build(["--runner:home=" + unmapped.HomePath, "--server:urls=http://127.0.0.1:0"], TextWriter.Null));
        Assert.Equal("EmbeddedWebUserNotAnEmail", error.ErrorId);
        Assert.Equal(Path.Combine(unmapped.HomePath, "settings.toml"), error.Target);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://192.168.1.1:5080")]
    [InlineData("http://127.0.0.1:0;http://0.0.0.0:0")]
    [InlineData("https://127.0.0.1:0")]
    public void Listening_beyond_loopback_is_refused(string urls)
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => EmbeddedWeb.Build(["--runner:home=" + _world.HomePath, "--server:urls=" + urls], TextWriter.Null));
        Assert.Equal("EmbeddedWebNotLoopback", error.ErrorId);
    }
}
