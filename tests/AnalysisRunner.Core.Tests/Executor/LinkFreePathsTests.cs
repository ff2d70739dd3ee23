using AnalysisRunner.Core.Native;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// What the executor makes or writes in folders a job may write (its tmp bucket, its log folder) is
/// never reached through a link the job put there: a sandboxed job could otherwise have the executor,
/// outside the sandbox, create, write or show (through bwrap) whatever the link points to.
/// </summary>
public sealed class LinkFreePathsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public LinkFreePathsTests() => Directory.CreateDirectory(_folder.Path);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_link_where_a_folder_is_to_be_made_is_replaced_by_the_folder_and_what_it_pointed_to_is_untouched()
    {
        var secret = _folder.Combine("secret");
        Directory.CreateDirectory(secret);
        var wanted = _folder.Combine("tmp", "batch", "7");
        Directory.CreateDirectory(Path.GetDirectoryName(wanted)!);
        File.CreateSymbolicLink(wanted, "../../secret");

        LinkFreePaths.CreateFolder(wanted, _folder.Path);

        Assert.Null(new DirectoryInfo(wanted).LinkTarget);
        Assert.True(Directory.Exists(wanted));
        Assert.True(Directory.Exists(secret));
        Assert.True(LinkFreePaths.IsLinkFree(wanted, _folder.Path));
    }

    [Fact]
    public void A_link_above_the_folder_to_be_made_is_refused_and_nothing_is_made_through_it()
    {
        var secret = _folder.Combine("secret");
        Directory.CreateDirectory(secret);
        Directory.CreateDirectory(_folder.Combine("tmp"));
        File.CreateSymbolicLink(_folder.Combine("tmp", "batch"), "../secret");

        Assert.Throws<IOException>(() => LinkFreePaths.CreateFolder(_folder.Combine("tmp", "batch", "7"), _folder.Path));

        Assert.Empty(Directory.EnumerateFileSystemEntries(secret));
        Assert.False(LinkFreePaths.IsLinkFree(_folder.Combine("tmp", "batch"), _folder.Path));
    }

    [Fact]
    public void A_script_is_never_written_through_a_link_but_a_stale_file_is_replaced()
    {
        var target = _folder.Combine("registry.toml");
        File.WriteAllText(target, "# registry\n");
        var script = _folder.Combine("2.1.sh");
        File.CreateSymbolicLink(script, target);

        Assert.Throws<IOException>(() => LinkFreePaths.CreateNew(script).Dispose());
        Assert.Equal("# registry\n", File.ReadAllText(target));

        File.Delete(script);
        File.WriteAllText(script, "stale");
        using (var file = LinkFreePaths.CreateNew(script))
            file.Write("new"u8);
        Assert.Equal("new", File.ReadAllText(script));
    }

    [Fact]
    public void A_lane_or_ledger_replaced_by_a_link_is_not_appended_through()
    {
        var target = _folder.Combine("authorized_keys");
        File.WriteAllText(target, "host\n");
        var lane = _folder.Combine("3.log");
        File.CreateSymbolicLink(lane, target);

        Assert.ThrowsAny<IOException>(() => AppendFile.Open(lane).Dispose());
        Assert.Equal("host\n", File.ReadAllText(target));
        // Nor read through (Get-BatchJobLog would show what it points to).
        Assert.ThrowsAny<IOException>(() => LinkFreePaths.OpenRead(lane)?.Dispose());
        Assert.Null(LinkFreePaths.OpenRead(_folder.Combine("missing.log")));
    }

    [Fact]
    public void A_path_is_judged_by_where_it_leads_even_when_its_end_does_not_exist_yet()
    {
        var home = _folder.Combine("home");
        Directory.CreateDirectory(home);
        var link = _folder.Combine("outside");
        File.CreateSymbolicLink(link, home);

        Assert.True(LinkFreePaths.LeadsInto(Path.Combine(link, "keys", "run-token.key"), home));
        Assert.False(LinkFreePaths.LeadsInto(_folder.Combine("elsewhere", "x"), home));
    }
}
