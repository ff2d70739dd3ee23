using AnalysisRunner.Core;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Runs;
using Xunit;

namespace AnalysisRunner.Core.Tests.Policy;

/// <summary>Changing a run's batches is narrower than reading them: its submitter, or a full member.</summary>
public sealed class RunWriteAccessTests
{
    private static readonly DatasetRegistry Registry = DatasetRegistry.Parse("""
        [datasets.d]
        repositories = ["o/r"]
        [datasets.d.members]
        test = ["tess@example.org", "colleague@example.org"]
        standard = ["stan@example.org"]
        full = ["fay@example.org"]
        """, "test registry");

    private static RunRecord RunBy(string user, AccessLevel level = AccessLevel.Test) => new()
    {
        ArGuid = "3f2b1c9e-0000-4000-8000-000000000001",
        Timestamp = DateTimeOffset.UnixEpoch,
        User = user,
        Dataset = "d",
        AccessLevel = level,
        Script = "hello.sh",
        Description = "d",
        OutputPrefix = "x",
        OutputDir = "x",
        ConfigPath = "c.toml",
    };

    [Theory]
    [InlineData("tess@example.org", true)]
    [InlineData("TESS@Example.org", true)]     // emails compare without case, as everywhere
    [InlineData("fay@example.org", true)]      // full members may do anything to the dataset's data
    [InlineData("colleague@example.org", false)]
    [InlineData("stan@example.org", false)]    // reads the test namespace, may not stop tess's run
    [InlineData("stranger@example.org", false)]
    public void Only_the_submitter_or_a_full_member_may_change_a_test_run(string user, bool allowed) =>
        Assert.Equal(allowed, RunWriteAccess.MayChange(Registry, user, RunBy("tess@example.org")));

    [Fact]
    public void A_refusal_is_NotTheRunsSubmitter_naming_the_submitter_and_who_may()
    {
        var refusal = Assert.Throws<PolicyViolationException>(() => RunWriteAccess.Check(Registry, "colleague@example.org", RunBy("tess@example.org")));
        Assert.Equal("NotTheRunsSubmitter", refusal.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, refusal.Kind);
        Assert.Contains("tess@example.org", refusal.Message);
        Assert.Contains("full", refusal.Message);
    }

    [Fact]
    public void No_full_member_list_applies_to_a_run_of_a_dataset_gone_from_the_registry() =>
        Assert.False(RunWriteAccess.MayChange(Registry, "fay@example.org", RunBy("tess@example.org") with { Dataset = "gone" }));
}
