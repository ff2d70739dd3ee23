using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Policy;

public class DatasetRegistryTests
{
    [Fact]
    public void Parse_reads_datasets_members_repositories_and_images()
    {
        var registry = PolicyTestData.Registry();

        Assert.Equal(["fewgenomes", "tob-wgs"], registry.DatasetNames);
        Assert.Equal("australia-southeast1-docker.pkg.dev/analysis-runner/images/driver:latest", registry.DefaultImage);
        Assert.Equal(2, registry.ImagePrefixes.Count);
        var few = registry.Find("fewgenomes")!;
        Assert.Equal(["alice@example.org", "bob@example.org"], few.Members[AccessLevel.Test]);
        Assert.Equal(["alice@example.org"], few.Members[AccessLevel.Standard]);
        Assert.Empty(few.Members[AccessLevel.Full]);
        Assert.Equal(["docker.io/fewgenomes/"], few.ImagePrefixes);
        var tob = registry.Find("tob-wgs")!;
        Assert.Empty(tob.Members[AccessLevel.Test]);
        Assert.Empty(tob.ImagePrefixes);
    }

    [Fact]
    public void Find_is_exact_and_case_sensitive()
    {
        var registry = PolicyTestData.Registry();
        Assert.Null(registry.Find("FewGenomes"));
        Assert.Null(registry.Find("fewgenome"));
        Assert.NotNull(registry.Find("fewgenomes"));
    }

    [Fact]
    public void DefaultToml_is_a_working_registry_for_the_user_at_test_and_standard()
    {
        var toml = DatasetRegistry.DefaultToml("alice@example.org");
        var registry = DatasetRegistry.Parse(toml, "default");

        var few = registry.Find("fewgenomes")!;
        Assert.Equal(["alice@example.org"], few.Members[AccessLevel.Test]);
        Assert.Equal(["alice@example.org"], few.Members[AccessLevel.Standard]);
        Assert.Empty(few.Members[AccessLevel.Full]);
        Assert.Equal(["populationgenomics/analysis-runner"], few.Repositories);
        Assert.Equal(DatasetRegistry.BuiltInDefaultImage, registry.DefaultImage);
        Assert.NotEmpty(registry.ImagePrefixes);
        Assert.Contains("# ", toml);
        Assert.Contains("add a [datasets.", toml, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DefaultToml_stays_valid_for_a_user_name_with_quotes_and_backslashes()
    {
        const string user = "o'brien\"\\x@example.org";
        var registry = DatasetRegistry.Parse(DatasetRegistry.DefaultToml(user), "default");
        Assert.Equal([user], registry.Find("fewgenomes")!.Members[AccessLevel.Test]);
    }

    [Theory]
    [InlineData("[datasets.x\nrepositories = []", 1)]
    [InlineData("default_image = \"a\"\n\ndefault_image = \"b\"\n", 3)]
    public void Bad_toml_is_InvalidRegistry_naming_the_file_and_line(string toml, int line)
    {
        var ex = Assert.Throws<ConfigException>(() => DatasetRegistry.Parse(toml, "/home/a/registry.toml"));
        Assert.Equal("InvalidRegistry", ex.ErrorId);
        Assert.Equal(ErrorKind.InvalidData, ex.Kind);
        Assert.Equal("/home/a/registry.toml", ex.Target);
        Assert.Contains("/home/a/registry.toml", ex.Message);
        Assert.Contains($"line {line}", ex.Message);
    }

    [Theory]
    [InlineData("image_prefixes = \"x\"", "image_prefixes")]
    [InlineData("default_image = 3", "default_image")]
    [InlineData("datasets = 1", "datasets")]
    [InlineData("[datasets.x]\nrepositories = \"org/repo\"", "datasets.x.repositories")]
    [InlineData("[datasets.x]\nrepositories = [1]", "datasets.x.repositories")]
    [InlineData("[datasets.x.members]\ntest = \"alice\"", "datasets.x.members.test")]
    [InlineData("[datasets.x.members]\ntset = [\"alice\"]", "tset")]
    [InlineData("[datasets.x]\nrepository = [\"org/repo\"]", "repository")]
    [InlineData("[datasets.X]\nrepositories = []", "'X'")]
    [InlineData("[datasets.\"../up\"]\nrepositories = []", "../up")]
    public void Wrong_types_and_unknown_keys_are_InvalidRegistry(string toml, string named)
    {
        var ex = Assert.Throws<ConfigException>(() => DatasetRegistry.Parse(toml, "registry.toml"));
        Assert.Equal("InvalidRegistry", ex.ErrorId);
        Assert.Equal("registry.toml", ex.Target);
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public void Load_reads_the_file_and_names_it_in_messages()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("registry.toml");
        File.WriteAllText(path, PolicyTestData.RegistryToml);

        var registry = DatasetRegistry.Load(path);

        Assert.Equal(path, registry.SourceName);
        Assert.NotNull(registry.Find("fewgenomes"));
        var missing = Assert.Throws<ConfigException>(() => DatasetRegistry.Load(folder.Combine("nope.toml")));
        Assert.Equal("RegistryNotFound", missing.ErrorId);
    }
}
