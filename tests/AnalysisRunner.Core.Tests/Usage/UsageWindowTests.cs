using AnalysisRunner.Core.Usage;

namespace AnalysisRunner.Core.Tests.Usage;

/// <summary>The bound on how far back a usage query reaches: the rule the cmdlet, the API and the page share.</summary>
public sealed class UsageWindowTests
{
    private static readonly DateOnly Today = new(2026, 12, 6);

    [Fact]
    public void Today_and_every_day_back_to_max_days_are_allowed()
    {
        var window = new UsageWindow(30);

        window.Check(Today, Today);
        window.Check(Today.AddDays(-30), Today);
        UsageWindow.Default.Check(Today.AddDays(-366), Today);
        Assert.Equal(366, UsageWindow.Default.MaxDays);
    }

    [Fact]
    public void A_day_before_the_window_is_UsageWindowTooLong_naming_the_day_given_and_the_days_allowed()
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => UsageWindow.Default.Check(new DateOnly(1, 1, 1), Today));
        var aDayOver = Assert.Throws<AnalysisRunnerException>(() => new UsageWindow(30).Check(Today.AddDays(-31), Today));

        Assert.Equal(("UsageWindowTooLong", ErrorKind.InvalidArgument, (object?)"0001-01-01"), (error.ErrorId, error.Kind, error.Target));
        Assert.Equal("Usage since 0001-01-01 reaches back 739955 days; usage is counted at most 366 days back: give a day from 2025-12-05 to 2026-12-06 (UTC).",
            error.Message);
        Assert.Equal("UsageWindowTooLong", aDayOver.ErrorId);
        Assert.Contains("give a day from 2026-11-06 to 2026-12-06", aDayOver.Message);
    }

    [Fact]
    public void A_day_after_today_is_UsageSinceInFuture()
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => UsageWindow.Default.Check(Today.AddDays(1), Today));

        Assert.Equal(("UsageSinceInFuture", ErrorKind.InvalidArgument, (object?)"2026-12-07"), (error.ErrorId, error.Kind, error.Target));
        Assert.Contains("give a day from 2025-12-05 to 2026-12-06 (UTC)", error.Message);
    }

    [Fact]
    public void A_window_of_no_days_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UsageWindow(0));
    }
}
