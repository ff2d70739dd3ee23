using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>A driver's "Submitted batch N, see &lt;url&gt;" line is a link to batch N here; nothing else in a log is.</summary>
public sealed class LogLinksTests
{
    [Fact]
    public void The_submitted_batch_line_links_to_that_batchs_page_on_this_server()
    {
        var html = LogLinks.Render("step 1\nSubmitted batch 12, see http://127.0.0.1:5080/batches/12\n").ToString();
        Assert.Equal("step 1\nSubmitted batch 12, see <a class=\"batch\" href=\"/batches/12\">http://127.0.0.1:5080/batches/12</a>\n", html);
    }

    [Theory]
    [InlineData("Submitted batch 12, see javascript:alert(1)/batches/12")]
    [InlineData("Submitted batch 12, see http://evil.example/batches/13")]
    [InlineData("Submitted batch 12, see http://evil.example/batches/12?x")]
    [InlineData("  Submitted batch 12, see http://127.0.0.1/batches/12")]
    [InlineData("Submitted batch 12, see http://127.0.0.1/batches/12\" onclick=\"x")]
    public void Anything_else_stays_encoded_text(string line)
    {
        var html = LogLinks.Render(line).ToString();
        Assert.DoesNotContain("<a", html);
        Assert.DoesNotContain("\"", html);
    }

    [Fact]
    public void Markup_in_a_log_is_encoded()
    {
        Assert.Equal("&lt;b&gt;x&lt;/b&gt;", LogLinks.Render("<b>x</b>").ToString());
    }
}
