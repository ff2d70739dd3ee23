using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Tests.TestSupport;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Config;

public sealed class ConfigStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly ConfigStore _store;
    private static readonly TomlTable Config = new() { ["workflow"] = new TomlTable { ["dataset"] = "fewgenomes" } };

    public ConfigStoreTests() => _store = new ConfigStore(_folder.Combine("configs"));

    public void Dispose() => _folder.Dispose();

    private string[] FilesInStore() =>
        Directory.Exists(_store.Directory) ? Directory.GetFiles(_store.Directory).Select(f => Path.GetFileName(f)).ToArray() : [];

    [Fact]
    public void Stage_writes_a_hidden_temp_file_and_Commit_publishes_it_read_only()
    {
        using var staged = _store.Stage("guid-1", Config);

        Assert.Equal(_store.PathFor("guid-1"), staged.FinalPath);
        Assert.False(File.Exists(staged.FinalPath));
        var temp = Assert.Single(FilesInStore());
        Assert.StartsWith(".", temp);

        staged.Commit();

        Assert.Equal(["guid-1.toml"], FilesInStore());
        Assert.Equal(staged.Text, File.ReadAllText(staged.FinalPath));
        Assert.Equal("fewgenomes", ((TomlTable)ConfigReader.Read(staged.FinalPath)["workflow"])["dataset"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(staged.FinalPath));
    }

    [Fact]
    public void Dispose_without_Commit_removes_the_temp_file()
    {
        using (_store.Stage("guid-2", Config)) { }
        Assert.Empty(FilesInStore());
    }

    [Fact]
    public void A_config_is_written_once()
    {
        using (var first = _store.Stage("guid-3", Config)) first.Commit();
        var before = File.ReadAllText(_store.PathFor("guid-3"));

        using var second = _store.Stage("guid-3", new TomlTable { ["other"] = 1L });
        var ex = Assert.Throws<ConfigException>(second.Commit);

        Assert.Equal("ConfigAlreadyExists", ex.ErrorId);
        Assert.Equal(_store.PathFor("guid-3"), ex.Target);
        Assert.Equal(before, File.ReadAllText(_store.PathFor("guid-3")));
        second.Dispose();
        Assert.Equal(["guid-3.toml"], FilesInStore());
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void An_ar_guid_that_is_not_a_plain_name_is_refused(string arGuid)
    {
        var ex = Assert.Throws<ConfigException>(() => _store.PathFor(arGuid));
        Assert.Equal("InvalidArGuid", ex.ErrorId);
    }
}
