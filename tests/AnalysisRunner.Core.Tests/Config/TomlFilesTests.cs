using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Tests.TestSupport;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Config;

public class TomlFilesTests
{
    [Fact]
    public void Parse_and_Serialize_round_trip()
    {
        var table = TomlFiles.Parse("a = 1\n[b.c]\nd = [\"x\", \"y\"]\ne = true\n", "t.toml");
        var again = TomlFiles.Parse(TomlFiles.Serialize(table), "again");
        Assert.Equal(1L, again["a"]);
        var c = (TomlTable)((TomlTable)again["b"])["c"];
        Assert.Equal(["x", "y"], ((TomlArray)c["d"]).Cast<string>());
        Assert.Equal(true, c["e"]);
    }

    [Theory]
    [InlineData("a = 1\nb = = 2\n", 2)]
    [InlineData("a = 1\n\na = 2\n", 3)]
    [InlineData("[t]\nx = 1\n[t]\ny = 2\n", 3)]
    public void Invalid_toml_is_InvalidToml_naming_file_and_line(string text, int line)
    {
        var ex = Assert.Throws<ConfigException>(() => TomlFiles.Parse(text, "my.toml"));
        Assert.Equal("InvalidToml", ex.ErrorId);
        Assert.Equal(ErrorKind.InvalidData, ex.Kind);
        Assert.Equal("my.toml", ex.Target);
        Assert.Contains($"my.toml, line {line}", ex.Message);
    }

    [Fact]
    public void Read_of_a_missing_file_is_ConfigNotFound()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("missing.toml");
        var ex = Assert.Throws<ConfigException>(() => TomlFiles.Read(path));
        Assert.Equal("ConfigNotFound", ex.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, ex.Kind);
        Assert.Equal(path, ex.Target);
    }

    [Fact]
    public void Read_names_the_file_in_parse_errors()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("bad.toml");
        File.WriteAllText(path, "x = \n");
        var ex = Assert.Throws<ConfigException>(() => ConfigReader.Read(path));
        Assert.Equal(path, ex.Target);
        Assert.Contains(path, ex.Message);
    }
}
