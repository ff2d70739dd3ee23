using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Storage;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Config;

public class RunConfigBuilderTests
{
    private static RunConfigInput Input(AccessLevel level, string? repository = "populationgenomics/analysis-runner") => new()
    {
        ArGuid = "7b1f9c2e-0000-4000-8000-000000000001",
        Dataset = "fewgenomes",
        AccessLevel = level,
        OutputPrefix = "onboarding/me/x",
        DriverImage = "australia-southeast1-docker.pkg.dev/analysis-runner/images/driver:latest",
        User = "alice@example.org",
        Repository = repository,
        Commit = repository is null ? null : "0123456789abcdef0123456789abcdef01234567",
        Description = "hello",
        Buckets = BucketLayout.Create("fewgenomes", level, name => "/home/buckets/" + name),
    };

    private static TomlTable Table(TomlTable root, string dotted) =>
        dotted.Split('.').Aggregate(root, (table, key) => (TomlTable)table[key]);

    [Fact]
    public void Test_access_baseline_points_at_the_test_buckets()
    {
        var config = RunConfigBuilder.Build(Input(AccessLevel.Test), [], []);

        var workflow = Table(config, "workflow");
        Assert.Equal("test", workflow["access_level"]);
        Assert.Equal("fewgenomes", workflow["dataset"]);
        Assert.Equal("7b1f9c2e-0000-4000-8000-000000000001", workflow["ar_guid"]);
        Assert.Equal("onboarding/me/x", workflow["output_prefix"]);
        Assert.Equal("alice@example.org", workflow["user"]);
        Assert.Equal("hello", workflow["description"]);
        Assert.Equal("populationgenomics/analysis-runner", workflow["repository"]);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", workflow["commit"]);
        Assert.EndsWith("driver:latest", (string)workflow["driver_image"]);

        Assert.Equal("fewgenomes", Table(config, "hail")["billing_project"]);
        Assert.Equal("/home/buckets/cpg-fewgenomes-test-tmp", Table(config, "hail")["bucket"]);

        foreach (var section in new[] { "storage.default", "storage.fewgenomes" })
        {
            var storage = Table(config, section);
            Assert.Equal("/home/buckets/cpg-fewgenomes-test", storage["default"]);
            Assert.Equal("/home/buckets/cpg-fewgenomes-test-analysis", storage["analysis"]);
            Assert.Equal("/home/buckets/cpg-fewgenomes-test-tmp", storage["tmp"]);
            Assert.Equal("/home/buckets/cpg-fewgenomes-test-upload", storage["upload"]);
            Assert.Equal("/home/buckets/cpg-fewgenomes-test-web", storage["web"]);
            Assert.Equal("https://test-web.populationgenomics.org.au/fewgenomes", storage["web_url"]);
        }
    }

    [Fact]
    public void Standard_access_baseline_points_at_the_main_buckets()
    {
        var config = RunConfigBuilder.Build(Input(AccessLevel.Standard), [], []);

        Assert.Equal("standard", Table(config, "workflow")["access_level"]);
        Assert.Equal("/home/buckets/cpg-fewgenomes-main", Table(config, "storage.default")["default"]);
        Assert.Equal("/home/buckets/cpg-fewgenomes-main-tmp", Table(config, "hail")["bucket"]);
        Assert.Equal("https://main-web.populationgenomics.org.au/fewgenomes", Table(config, "storage.fewgenomes")["web_url"]);
        Assert.DoesNotContain("-test", TomlFiles.Serialize(config));
    }

    [Fact]
    public void Repository_and_commit_are_left_out_when_absent()
    {
        var workflow = Table(RunConfigBuilder.Build(Input(AccessLevel.Test, repository: null), [], []), "workflow");
        Assert.False(workflow.ContainsKey("repository"));
        Assert.False(workflow.ContainsKey("commit"));
    }

    [Fact]
    public void Templates_then_baseline_then_user_configs_left_to_right()
    {
        ConfigSnapshot[] templates =
        [
            new("t1.toml", "[workflow]\naccess_level = \"full\"\nsequencing_type = \"exome\"\n[images]\nbwa = \"a\"\nsamtools = \"s\"\n"),
            new("t2.toml", "[images]\nbwa = \"b\"\n"),
        ];
        ConfigSnapshot[] users =
        [
            new("u1.toml", "[workflow]\nsequencing_type = \"genome\"\n[images]\nbwa = \"c\"\n"),
            new("u2.toml", "[images]\nbwa = \"d\"\n[hail]\npool = \"mine\"\n"),
        ];

        var config = RunConfigBuilder.Build(Input(AccessLevel.Test), templates, users);

        Assert.Equal("test", Table(config, "workflow")["access_level"]);
        Assert.Equal("genome", Table(config, "workflow")["sequencing_type"]);
        Assert.Equal("d", Table(config, "images")["bwa"]);
        Assert.Equal("s", Table(config, "images")["samtools"]);
        Assert.Equal("mine", Table(config, "hail")["pool"]);
        Assert.Equal("fewgenomes", Table(config, "hail")["billing_project"]);
    }

    [Fact]
    public void A_user_config_with_a_protected_key_is_refused_naming_that_file()
    {
        ConfigSnapshot[] users = [new("ok.toml", "[workflow]\nx = 1\n"), new("sneaky.toml", "[workflow]\ndataset = \"tob-wgs\"\n")];
        var ex = Assert.Throws<ConfigException>(() => RunConfigBuilder.Build(Input(AccessLevel.Test), [], users));
        Assert.Equal("ProtectedConfigKey", ex.ErrorId);
        Assert.Equal("sneaky.toml", ex.Target);
    }

    [Fact]
    public void Invalid_user_toml_is_InvalidToml_naming_that_file()
    {
        var ex = Assert.Throws<ConfigException>(() =>
            RunConfigBuilder.Build(Input(AccessLevel.Test), [], [new ConfigSnapshot("broken.toml", "x = ")]));
        Assert.Equal("InvalidToml", ex.ErrorId);
        Assert.Equal("broken.toml", ex.Target);
    }

    [Fact]
    public void A_layout_for_another_dataset_is_a_programming_error()
    {
        var input = Input(AccessLevel.Test) with { Buckets = BucketLayout.Create("other", AccessLevel.Test, n => n) };
        Assert.Throws<ArgumentException>(() => RunConfigBuilder.Build(input, [], []));
    }
}
