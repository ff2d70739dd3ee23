using AnalysisRunner.Core.Config;

namespace AnalysisRunner.Core.Tests.Config;

public class TomlTableConversionTests
{
    [Fact]
    public void Tables_become_ordered_case_sensitive_dictionaries_and_arrays_object_arrays()
    {
        var table = TomlFiles.Parse("z = 1\nA = \"x\"\na = [1, [\"n\"]]\nwhen = 2024-01-02T03:04:05Z\n[[jobs]]\nn = 1\n[t]\nk = true\n", "t");

        var plain = Assert.IsType<Dictionary<string, object?>>(TomlTableConversion.ToPlain(table));

        Assert.Equal(["z", "A", "a", "when", "jobs", "t"], plain.Keys);
        Assert.Equal("x", plain["A"]);
        Assert.False(plain.ContainsKey("Z"));
        var array = Assert.IsType<object?[]>(plain["a"]);
        Assert.Equal(1L, array[0]);
        Assert.Equal(["n"], Assert.IsType<object?[]>(array[1]));
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), plain["when"]);
        var jobs = Assert.IsType<object?[]>(plain["jobs"]);
        Assert.Equal(1L, Assert.IsType<Dictionary<string, object?>>(jobs[0])["n"]);
        Assert.Equal(true, Assert.IsType<Dictionary<string, object?>>(plain["t"])["k"]);
        Assert.Null(TomlTableConversion.ToPlain(null));
    }
}
