using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Storage;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Config;

public class ProtectedKeysTests
{
    [Fact]
    public void Every_key_the_runner_derives_is_protected()
    {
        var baseline = RunConfigBuilder.Baseline(new RunConfigInput
        {
            ArGuid = "g", Dataset = "fewgenomes", AccessLevel = AccessLevel.Test, OutputPrefix = "o", DriverImage = "i",
            User = "u", Repository = "r", Commit = "c", Description = "d",
            Buckets = BucketLayout.Create("fewgenomes", AccessLevel.Test, name => "gs://" + name),
        });
        foreach (var key in Leaves(baseline, ""))
        {
            var protectedBy = ProtectedKeys.Keys.FirstOrDefault(p => key == p || key.StartsWith(p + ".", StringComparison.Ordinal));
            Assert.True(protectedBy is not null, $"the runner derives {key}, which no protected key covers");
        }
    }

    private static IEnumerable<string> Leaves(TomlTable table, string prefix) =>
        table.SelectMany(pair => pair.Value is TomlTable inner ? Leaves(inner, prefix + pair.Key + ".") : [prefix + pair.Key]);

    [Theory]
    [InlineData("[workflow]\naccess_level = \"full\"\n", "workflow.access_level")]
    [InlineData("[workflow]\ndataset = \"tob-wgs\"\n", "workflow.dataset")]
    [InlineData("workflow.dataset = \"tob-wgs\"\n", "workflow.dataset")]
    [InlineData("workflow = \"gone\"\n", "workflow")]
    [InlineData("[workflow]\nuser = \"bob@example.org\"\n", "workflow.user")]
    [InlineData("[workflow]\ncommit = \"0000000000000000000000000000000000000000\"\n", "workflow.commit")]
    [InlineData("[workflow]\nrepository = \"evil/repo\"\n", "workflow.repository")]
    [InlineData("[workflow]\noutput_prefix = \"../../etc\"\n", "workflow.output_prefix")]
    [InlineData("[workflow]\nar_guid = \"someone-elses-run\"\n", "workflow.ar_guid")]
    [InlineData("[workflow]\ndriver_image = \"docker.io/evil/image\"\n", "workflow.driver_image")]
    [InlineData("[storage.default]\ndefault = \"gs://cpg-fewgenomes-main\"\n", "storage")]
    [InlineData("[storage.othergenomes]\ndefault = \"gs://cpg-othergenomes-main\"\n", "storage")]
    [InlineData("storage = 1\n", "storage")]
    [InlineData("[hail]\nbucket = \"gs://cpg-othergenomes-main-tmp\"\n", "hail.bucket")]
    [InlineData("[hail]\nbilling_project = \"othergenomes\"\n", "hail.billing_project")]
    [InlineData("\"workflow\".\"dataset\" = \"tob-wgs\"\n", "workflow.dataset")]
    [InlineData("[[workflow]]\nx = 1\n", "workflow")]
    public void A_user_config_setting_a_protected_key_is_refused(string toml, string key)
    {
        var table = TomlFiles.Parse(toml, "mine.toml");
        var ex = Assert.Throws<ConfigException>(() => ProtectedKeys.Check(table, "mine.toml"));
        Assert.Equal("ProtectedConfigKey", ex.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
        Assert.Equal("mine.toml", ex.Target);
        Assert.Contains($"'{key}'", ex.Message);
        Assert.Contains("mine.toml", ex.Message);
    }

    [Theory]
    [InlineData("[workflow]\nsequencing_type = \"genome\"\n")]
    [InlineData("[hail]\ndataset = \"x\"\naccess_level = \"full\"\npool = \"p\"\n")]
    [InlineData("[workflow.extra]\nuser = \"someone\"\n")]
    [InlineData("")]
    public void Other_keys_are_allowed(string toml) =>
        ProtectedKeys.Check(TomlFiles.Parse(toml, "ok.toml"), "ok.toml");
}
