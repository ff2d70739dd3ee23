using System.Collections;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Web;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>The web address a home or server gives its runs, batches and jobs, and how the user's browser is found.</summary>
public sealed class WebAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080/batches/12")]
    [InlineData("http://127.0.0.1:5080/", "http://127.0.0.1:5080/batches/12")]
    [InlineData("https://runner.example.org/ar/", "https://runner.example.org/ar/batches/12")]
    public void Pages_are_below_the_address_with_or_without_a_trailing_slash(string address, string batchPage)
    {
        var web = WebAddress.Parse(address, "test");

        Assert.Equal(batchPage, web.Batch(12));
        Assert.Equal(batchPage + "/jobs/2", web.Job(12, 2));
        Assert.EndsWith("/analysis-runner/fewgenomes-main", web.AuditLog("fewgenomes", AccessLevel.Full));
        Assert.EndsWith("/analysis-runner/fewgenomes-test", web.AuditLog("fewgenomes", AccessLevel.Test));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("javascript:alert(1)")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/batches")]
    [InlineData("http://127.0.0.1:5080/?next=https://evil.example")]
    [InlineData("http://127.0.0.1:5080/#top")]
    [InlineData("")]
    public void Anything_but_a_plain_http_or_https_address_is_InvalidWebAddress(string address)
    {
        var error = Assert.ThrowsAny<AnalysisRunnerException>(() => WebAddress.Parse(address, "test"));

        Assert.Equal("InvalidWebAddress", error.ErrorId);
        Assert.Equal(address, error.Target);
    }

    [Fact]
    public void A_password_in_a_refused_address_is_not_repeated()
    {
        var error = Assert.ThrowsAny<AnalysisRunnerException>(() => WebAddress.Parse("https://alice:s3cret@runner.example.org/", "test"));

        Assert.Equal("InvalidWebAddress", error.ErrorId);
        Assert.DoesNotContain("s3cret", error.Message);
        Assert.DoesNotContain("s3cret", (string)error.Target!);
    }

    [Fact]
    public void A_run_links_to_its_driver_batch_and_a_Url_already_set_is_kept()
    {
        var web = WebAddress.Parse("http://h:1", "test");
        var run = new RunRecord
        {
            ArGuid = "g", Timestamp = DateTimeOffset.UnixEpoch, User = "u", Dataset = "d", AccessLevel = AccessLevel.Test,
            Script = "s", Description = "x", OutputPrefix = "o", OutputDir = "o", ConfigPath = "c", DriverBatchId = 7,
        };
        var job = new JobInfo { BatchId = 7, JobId = 3, Name = "j", State = JobState.Pending, Command = "true" };

        Assert.Equal("http://h:1/batches/7", web.Linked(run).Url);
        Assert.Equal("http://h:1/batches/7/jobs/3", ((JobInfo)web.Linked((object)job)!).Url);
        Assert.Equal("https://server/batches/7", web.Linked(run with { Url = "https://server/batches/7" }).Url);
        Assert.Equal("text", web.Linked((object)"text"));
    }

    [Fact]
    public void The_browser_is_BROWSER_first_then_xdg_open_only_in_a_desktop_session()
    {
        var bin = Directory.CreateTempSubdirectory("ar-browser-");
        try
        {
            var xdgOpen = Path.Combine(bin.FullName, "xdg-open");
            File.WriteAllText(xdgOpen, "#!/bin/sh\n");
            Hashtable Environment(params (string Name, string Value)[] variables)
            {
                var table = new Hashtable { ["PATH"] = bin.FullName };
                foreach (var (name, value) in variables) table[name] = value;
                return table;
            }

            Assert.Equal("firefox --new-tab %s", DefaultBrowser.Find(Environment(("BROWSER", "firefox --new-tab %s:lynx"), ("DISPLAY", ":0")))!.Command);
            Assert.Equal(xdgOpen, DefaultBrowser.Find(Environment(("DISPLAY", ":0")))!.Command);
            Assert.Equal(xdgOpen, DefaultBrowser.Find(Environment(("WAYLAND_DISPLAY", "wayland-0")))!.Command);
            Assert.Null(DefaultBrowser.Find(Environment()));
            Assert.Null(DefaultBrowser.Find(Environment(("BROWSER", ""))));
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }
}
