using System.Text;
using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Core.Tests.Batch;

public sealed class Utf8LineSplitterTests
{
    [Fact]
    public void Lines_and_characters_cut_between_pieces_come_out_whole()
    {
        var bytes = Encoding.UTF8.GetBytes("first\r\nsecond é line\nunfinished");
        var cut = Array.IndexOf(bytes, (byte)0xC3) + 1;   // in the middle of é
        var splitter = new Utf8LineSplitter();

        var lines = splitter.Split(bytes[..cut], cut).Concat(splitter.Split(bytes[cut..], bytes.Length - cut)).ToList();

        Assert.Equal(["first", "second é line"], lines);
        Assert.Equal("unfinished", splitter.Rest());
        Assert.Null(splitter.Rest());
    }
}
