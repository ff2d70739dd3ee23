using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;
using Microsoft.Playwright;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>
/// The pages in a real browser (Playwright driving Debian's chromium): signing in with the form,
/// following links from the log to batches, jobs and the config, a non-member's 403, and a live log.
/// With AR_WEB_SCREENSHOTS=&lt;folder&gt; the walk saves the screenshots the README shows.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[RequiresPostgres]
[RequiresChromium]
[Collection(PostgresWebCollection.Name)]
[Trait("Category", "Browser")]
public sealed class BrowserTests(PostgresFixture postgres) : WebTest(postgres), IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        if (PostgresCluster.MissingReason is not null || RequiresChromiumAttribute.MissingReason is not null) return;
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = RequiresChromiumAttribute.ExecutablePath,
            Args = ["--no-sandbox"],
        });
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        await DisposeAsync();
    }

    private async Task<IPage> SignInAsync(string token, string path)
    {
        var context = await BrowserDeadlines.NewContextAsync(_browser!,
            new BrowserNewContextOptions { BaseURL = Server.Address.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await BrowserDeadlines.OpenAsync(page, path);
        // Sent to the form, and back to the page asked for once signed in.
        Assert.Contains("/signin?returnUrl=", page.Url);
        await page.FillAsync("input[name=token]", token);
        await page.ClickAsync("button[type=submit]");
        await BrowserDeadlines.WaitForPathAsync(page, path);
        return page;
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("AR_WEB_SCREENSHOTS") is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    [BackendFact]
    public async Task A_member_signs_in_and_follows_the_log_to_the_batch_the_jobs_log_and_the_config()
    {
        var run = await World.AddRunAsync(description: "Onboarding: say hello <b>not bold</b>",
            configToml: "[workflow]\ndataset = \"fewgenomes\"\naccess_level = \"test\"\n");
        var sub = await World.AddSubBatchAsync(run, "echo \"Hello, $(cat {{ar:0:out}} | tr -d '\\n') world!\"");
        World.WaitForBatch(run.DriverBatchId);
        World.WaitForBatch(sub);

        var page = await SignInAsync(AliceToken, "/analysis-runner/fewgenomes-test");
        var row = page.Locator($"tr[data-ar-guid='{run.ArGuid}']");
        await Assertions.Expect(row.Locator("td.description")).ToHaveTextAsync("Onboarding: say hello <b>not bold</b>");
        await ScreenshotAsync(page, "audit-log");

        await row.Locator("a.sub-batch").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync($"Batch {sub}");
        await Assertions.Expect(page.Locator("svg.dag g.job")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("svg.dag line.edge")).ToHaveCountAsync(1);
        await ScreenshotAsync(page, "batch");

        await page.Locator("svg.dag a[href$='/jobs/2']").ClickAsync();
        await Assertions.Expect(page.Locator("pre.log.stdout")).ToContainTextAsync("Hello, Hello world!");
        await Assertions.Expect(page.Locator("#image")).ToHaveTextAsync("registry.example.org/approved/base:1");
        await ScreenshotAsync(page, "job");

        await page.Locator("a.config").First.ClickAsync();
        await Assertions.Expect(page.Locator("#config-toml")).ToContainTextAsync("access_level = \"test\"");

        await page.Locator("a", new() { HasText = "fewgenomes-test" }).First.ClickAsync();
        await page.Locator("a", new() { HasText = "Usage of fewgenomes" }).ClickAsync();
        await Assertions.Expect(page.Locator("svg.chart g.bar")).ToHaveCountAsync(1);
        await ScreenshotAsync(page, "usage");
    }

    [BackendFact]
    public async Task A_non_member_sees_403_on_the_batch_page_and_nothing_of_it()
    {
        var run = await World.AddRunAsync(description: "alice's secret run");

        var page = await SignInAsync(BobToken, $"/batches/{run.DriverBatchId}");

        await Assertions.Expect(page.Locator("p.error")).ToHaveAttributeAsync("data-error-id", "NotADatasetMember");
        Assert.DoesNotContain("secret", await page.ContentAsync());
        var response = await page.ReloadAsync(new PageReloadOptions { WaitUntil = WaitUntilState.Commit });
        Assert.Equal(403, response!.Status);
    }

    [BackendFact]
    public async Task A_running_jobs_log_grows_on_its_page_while_the_job_writes()
    {
        var run = await World.AddRunAsync();
        using var gate = new JobGate(Path.Combine(World.HomePath, "gate"));
        var sub = await World.AddSubBatchAsync(run, "echo first", gate.WaitCommand, "echo second");
        World.Executor.WaitUntil(() => World.Executor.Stdout(sub, 2).Contains("first"), 60, sub);

        var page = await SignInAsync(AliceToken, $"/batches/{sub}/jobs/2");
        var log = page.Locator("pre.log.stdout");
        await Assertions.Expect(log).ToContainTextAsync("first");
        await Assertions.Expect(log).Not.ToContainTextAsync("second");

        gate.Open();

        // Only the page's event stream can bring this: the page is not reloaded.
        await Assertions.Expect(log).ToContainTextAsync("first\nsecond");
        await Assertions.Expect(log).ToHaveAttributeAsync("data-ended", "true");
        Assert.Equal(BatchState.Succeeded, World.WaitForBatch(sub).State);
    }
}
