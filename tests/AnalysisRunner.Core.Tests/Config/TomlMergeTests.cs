using AnalysisRunner.Core.Config;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Config;

public class TomlMergeTests
{
    private static TomlTable T(string toml) => TomlFiles.Parse(toml, "test");

    [Fact]
    public void Nested_tables_merge_key_by_key()
    {
        var merged = TomlMerge.Merge(
            T("[workflow]\na = 1\nb = 2\n[workflow.deep]\nx = 1\ny = 1\n"),
            T("[workflow]\nb = 3\nc = 4\n[workflow.deep]\ny = 2\n"));

        Assert.Equal("""
            [workflow]
            a = 1
            b = 3
            c = 4
            [workflow.deep]
            x = 1
            y = 2

            """, TomlFiles.Serialize(merged));
    }

    [Fact]
    public void Arrays_and_scalars_replace_rather_than_append()
    {
        var merged = TomlMerge.Merge(T("list = [1, 2, 3]\nname = \"a\"\n"), T("list = [9]\nname = \"b\"\n"));
        Assert.Equal([9L], ((TomlArray)merged["list"]).Cast<long>());
        Assert.Equal("b", merged["name"]);
    }

    [Fact]
    public void A_scalar_over_a_table_replaces_the_table_and_a_table_over_a_scalar_replaces_the_scalar()
    {
        Assert.Equal(5L, TomlMerge.Merge(T("[a]\nb = 1\n"), T("a = 5\n"))["a"]);
        Assert.IsType<TomlTable>(TomlMerge.Merge(T("a = 5\n"), T("[a]\nb = 1\n"))["a"]);
    }

    [Fact]
    public void Inputs_are_never_mutated_and_the_result_shares_nothing_with_them()
    {
        const string baseText = "[a]\nb = 1\nlist = [1]\n[[jobs]]\nn = 1\n";
        const string overlayText = "[a]\nb = 2\n[a.new]\nz = 1\n";
        var baseTable = T(baseText);
        var overlay = T(overlayText);

        var merged = TomlMerge.Merge(baseTable, overlay);
        ((TomlTable)merged["a"])["b"] = 99L;
        ((TomlArray)((TomlTable)merged["a"])["list"]).Add(2L);
        ((TomlTable)((TomlTable)merged["a"])["new"])["z"] = 2L;
        ((TomlTableArray)merged["jobs"])[0]["n"] = 7L;

        Assert.Equal(TomlFiles.Serialize(T(baseText)), TomlFiles.Serialize(baseTable));
        Assert.Equal(TomlFiles.Serialize(T(overlayText)), TomlFiles.Serialize(overlay));
    }
}
