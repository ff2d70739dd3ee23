using System.Text.RegularExpressions;
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
    /// Until the page's address has <paramref name="path"/>: polled, as locators are, so what the test
    /// then looks for it waits for through locators. (WaitForURL waits for the load event once the
    /// address matches, and twice in CI hung there although the page had loaded and gone network-idle.)
    /// </summary>
    public static Task WaitForPathAsync(IPage page, string path) =>
        Assertions.Expect(page).ToHaveURLAsync(new Regex("^https?://[^/]+" + Regex.Escape(path) + "$"));

    /// <summary>Opens <paramref name="url"/> and returns once the browser has its answer (committed), not at its load event (see WaitForPathAsync).</summary>
    public static Task<IResponse?> OpenAsync(IPage page, string url) =>
        page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
}
