using Microsoft.Playwright;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>
/// Playwright's defaults (30 s for actions, 5 s for Expect) are deadlines, not measurements: on a
/// loaded 2-core machine a page and its sign-in redirect have taken longer. Every browser test opens
/// its contexts here, so its waits stay on events with one generous deadline.
/// </summary>
internal static class BrowserDeadlines
{
    private const float Generous = 120_000;

    public static async Task<IBrowserContext> NewContextAsync(IBrowser browser, BrowserNewContextOptions? options = null)
    {
        Assertions.SetDefaultExpectTimeout(Generous);
        var context = await browser.NewContextAsync(options);
        context.SetDefaultTimeout(Generous);
        context.SetDefaultNavigationTimeout(Generous);
        return context;
    }

    /// <summary>
    /// Until the page at <paramref name="path"/> is committed: what the test then looks for, it waits for
    /// through locators. (Waiting for its load event too has hung after the event came, under load.)
    /// </summary>
    public static Task WaitForPathAsync(IPage page, string path) =>
        page.WaitForURLAsync(url => new Uri(url).PathAndQuery == path, new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });
}
