using System.Globalization;

namespace AnalysisRunner.Core.Usage;

/// <summary>
/// How far back a usage query may reach. Every run since the first day counted is read, with its
/// batches, jobs and attempts, so a first day in year 1 would make the server read a dataset's whole
/// history on any member's request. The cmdlet (in-process or over a server), the API and the page
/// all go through DatasetUsage, which checks this before reading anything: one rule, one ErrorId.
/// </summary>
public sealed record UsageWindow
{
    /// <summary>A year and a day: a whole year back, whichever day it is asked on.</summary>
    public const int DefaultMaxDays = 366;

    public const string TooLongErrorId = "UsageWindowTooLong";
    public const string InFutureErrorId = "UsageSinceInFuture";

    public UsageWindow(int maxDays = DefaultMaxDays)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDays);
        MaxDays = maxDays;
    }

    public static UsageWindow Default { get; } = new();

    /// <summary>How many days before today (UTC) the first day counted may be.</summary>
    public int MaxDays { get; }

    /// <summary>The earliest first day allowed when today (UTC) is <paramref name="today"/>.</summary>
    public DateOnly Earliest(DateOnly today) => today.AddDays(-MaxDays);

    /// <summary>Throws UsageWindowTooLong or UsageSinceInFuture (InvalidArgument, so 400 over HTTP) for a first day outside the window.</summary>
    public void Check(DateOnly since, DateOnly today)
    {
        var given = Day(since);
        var right = $"give a day from {Day(Earliest(today))} to {Day(today)} (UTC)";
        if (since > today)
            throw new AnalysisRunnerException(InFutureErrorId, ErrorKind.InvalidArgument, given,
                $"Usage since {given} is in the future (today is {Day(today)}, UTC), so nothing could be counted; {right}.");
        if (since < Earliest(today))
            throw new AnalysisRunnerException(TooLongErrorId, ErrorKind.InvalidArgument, given,
                $"Usage since {given} reaches back {today.DayNumber - since.DayNumber} days; usage is counted at most {MaxDays} days back: {right}.");
    }

    /// <summary>Check against today's UTC day.</summary>
    public void Check(DateOnly since) => Check(since, DateOnly.FromDateTime(DateTime.UtcNow));

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
