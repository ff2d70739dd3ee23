using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Tests.Policy;

internal static class PolicyTestData
{
    public const string RegistryToml = """
        default_image = "australia-southeast1-docker.pkg.dev/analysis-runner/images/driver:latest"
        image_prefixes = ["australia-southeast1-docker.pkg.dev/analysis-runner/", "australia-southeast1-docker.pkg.dev/cpg-common/"]

        [datasets.fewgenomes]
        repositories = ["populationgenomics/analysis-runner", "https://github.com/org/other.git"]
        image_prefixes = ["docker.io/fewgenomes/"]

        [datasets.fewgenomes.members]
        test = ["alice@example.org", "bob@example.org"]
        standard = ["alice@example.org"]
        full = []

        [datasets.tob-wgs]
        repositories = []
        """;

    public static DatasetRegistry Registry() => DatasetRegistry.Parse(RegistryToml, "registry.toml");

    public static PolicyRequest Request(AccessLevel level = AccessLevel.Test) => new()
    {
        Dataset = "fewgenomes",
        AccessLevel = level,
        User = "alice@example.org",
        Repository = "populationgenomics/analysis-runner",
        Commit = "0123456789abcdef0123456789abcdef01234567",
        OutputDir = "onboarding/alice/x",
        Cwd = ".",
        Script = "run.sh",
    };
}

/// <summary>Answers from a fixed set and records what it was asked; every script is an executable file.</summary>
internal sealed class FakeCommits(params string[] onMain) : ICommitSource
{
    public List<(string CloneUrl, string Commit)> Asked { get; } = [];

    public bool IsOnMain(string cloneUrl, string commit)
    {
        Asked.Add((cloneUrl, commit));
        return onMain.Contains(commit);
    }

    public CommitScript ResolveScript(string commit, string cwd, string script) =>
        new(script, cwd, "./" + script, IsExecutable: true, Shebang: null, BlobSha: new string('b', 40));
}
