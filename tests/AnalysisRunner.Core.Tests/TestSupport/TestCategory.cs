namespace AnalysisRunner.Core.Tests.TestSupport;

/// <summary>
/// The xunit trait that keeps the expensive tests out of the quick default run: the scale tests, and
/// those whose cost is a heavyweight process per test rather than the code under test (Chromium, a
/// PostgreSQL restart, an executor killed and recovered, the attack suites' sandboxed runs).
/// build.ps1 -Task Test runs them with -IncludeSlow, which is on when $env:CI is set (.ci/run sets it).
/// </summary>
public static class TestCategory
{
    public const string Name = "Category";
    public const string Slow = "Slow";
}
