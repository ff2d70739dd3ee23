using AnalysisRunner.Core.Config;

namespace AnalysisRunner.Core.Tests.Config;

public class ProtectedKeysTests
{
    [Fact]
    public void The_protected_keys_are_access_level_and_dataset() =>
        Assert.Equal(["workflow.access_level", "workflow.dataset"], ProtectedKeys.Keys);

    [Theory]
    [InlineData("[workflow]\naccess_level = \"full\"\n", "workflow.access_level")]
    [InlineData("[workflow]\ndataset = \"tob-wgs\"\n", "workflow.dataset")]
    [InlineData("workflow.dataset = \"tob-wgs\"\n", "workflow.dataset")]
    [InlineData("workflow = \"gone\"\n", "workflow")]
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
    [InlineData("[hail]\ndataset = \"x\"\naccess_level = \"full\"\n")]
    [InlineData("")]
    public void Other_keys_are_allowed(string toml) =>
        ProtectedKeys.Check(TomlFiles.Parse(toml, "ok.toml"), "ok.toml");
}
