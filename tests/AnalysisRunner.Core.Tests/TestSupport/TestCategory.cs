namespace AnalysisRunner.Core.Tests.TestSupport;

/// <summary>
/// The xunit trait that keeps scale tests out of the quick default run: build.ps1 -Task Test runs
/// them with -IncludeSlow, which is on when $env:CI is set (.ci/run sets it).
/// </summary>
public static class TestCategory
{
    public const string Name = "Category";
    public const string Slow = "Slow";
}
