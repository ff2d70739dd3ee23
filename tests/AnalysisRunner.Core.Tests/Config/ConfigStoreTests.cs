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
    public async Task Publish_writes_the_config_read_only_with_no_temp_file_left()
    {
        var path = await _store.PublishAsync("guid-1", Config);

        Assert.Equal(_store.PathFor("guid-1"), path);
        Assert.Equal(["guid-1.toml"], FilesInStore());
        Assert.Equal("fewgenomes", ((TomlTable)ConfigReader.Read(path)["workflow"])["dataset"]);
        Assert.Equal("fewgenomes", ((TomlTable)(await _store.ReadAsync(path))["workflow"])["dataset"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Withdraw_removes_a_published_config_and_is_quiet_when_there_is_none()
    {
        await _store.PublishAsync("guid-2", Config);
        await _store.WithdrawAsync("guid-2");
        await _store.WithdrawAsync("guid-2");
        Assert.Empty(FilesInStore());
    }

    [Fact]
    public async Task A_config_is_written_once()
    {
        await _store.PublishAsync("guid-3", Config);
        var before = File.ReadAllText(_store.PathFor("guid-3"));

        var ex = await Assert.ThrowsAsync<ConfigException>(() => _store.PublishAsync("guid-3", new TomlTable { ["other"] = 1L }));

        Assert.Equal("ConfigAlreadyExists", ex.ErrorId);
        Assert.Equal(_store.PathFor("guid-3"), ex.Target);
        Assert.Equal(before, File.ReadAllText(_store.PathFor("guid-3")));
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
