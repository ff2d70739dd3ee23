using System.Net;
using System.Net.Sockets;
using System.Text;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>/web/&lt;dataset&gt;/&lt;namespace&gt;/…: members read their web bucket and nothing outside it, however the path is spelt.</summary>
[RequiresPostgres]
[Collection(PostgresWebCollection.Name)]
public sealed class WebBucketTests(PostgresFixture postgres) : WebTest(postgres)
{
    private string Bucket => World.WebBucket("fewgenomes", "test");

    private void Lay()
    {
        Directory.CreateDirectory(Path.Combine(Bucket, "qc"));
        File.WriteAllText(Path.Combine(Bucket, "qc", "report.html"), "<h1>QC report</h1>");
        File.WriteAllText(Path.Combine(Bucket, "index.html"), "<h1>fewgenomes web</h1>");
        // Outside the bucket, beside it and in the runner home: what traversal would want.
        File.WriteAllText(Path.Combine(World.HomePath, "outside.txt"), "secret outside");
        Directory.CreateDirectory(World.WebBucket("othergenomes", "test"));
        File.WriteAllText(Path.Combine(World.WebBucket("othergenomes", "test"), "theirs.html"), "secret of othergenomes");
    }

    [BackendFact]
    public async Task A_member_reads_a_file_and_a_folders_index_in_a_sandbox()
    {
        Lay();
        using var alice = Browser(AliceToken);
        using var report = await alice.GetAsync("/web/fewgenomes/test/qc/report.html");
        using var index = await alice.GetAsync("/web/fewgenomes/test/");

        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal("<h1>QC report</h1>", await report.Content.ReadAsStringAsync());
        Assert.Equal("text/html", report.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("sandbox", report.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("<h1>fewgenomes web</h1>", await index.Content.ReadAsStringAsync());
    }

    [BackendFact]
    public async Task A_non_member_gets_403_and_a_missing_file_404()
    {
        Lay();
        using var bob = Browser(BobToken);
        using var alice = Browser(AliceToken);
        using var refused = await bob.GetAsync("/web/fewgenomes/test/qc/report.html");
        using var missing = await alice.GetAsync("/web/fewgenomes/test/qc/nothing.html");
        using var otherDataset = await alice.GetAsync("/web/othergenomes/test/theirs.html");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherDataset.StatusCode);
        Assert.DoesNotContain("secret", await otherDataset.Content.ReadAsStringAsync());
    }

    [BackendFact]
    public async Task Traversal_in_any_spelling_is_refused_and_reads_nothing_outside_the_bucket()
    {
        Lay();
        string[] attempts =
        [
            "/web/fewgenomes/test/../../../outside.txt",
            "/web/fewgenomes/test/qc/../../othergenomes/test/theirs.html",
            "/web/fewgenomes/test/%2e%2e/%2e%2e/%2e%2e/outside.txt",
            "/web/fewgenomes/test/%2E%2E%2F%2E%2E%2Foutside.txt",
            "/web/fewgenomes/test/..%2f..%2f..%2foutside.txt",
            "/web/fewgenomes/test/qc%2f..%2f..%2fothergenomes-test-web/theirs.html",
            "/web/fewgenomes/test/..%5c..%5coutside.txt",
            "/web/fewgenomes/test/qc/report.html%00.txt",
            "/web/fewgenomes/test//etc/passwd",
        ];
        foreach (var path in attempts)
        {
            // Raw, so no client library tidies the path first.
            var (status, body) = await RawGetAsync(path, AliceToken);
            // 401 is a path Kestrel tidied out of /web/ altogether, which no session opens.
            Assert.True(status is 400 or 401 or 403 or 404, $"GET {path}: {status}");
            Assert.DoesNotContain("secret", body);
            Assert.DoesNotContain("root:", body);
        }
    }

    [BackendFact]
    public async Task A_symbolic_link_in_the_bucket_is_404_whether_it_leads_out_or_not()
    {
        Lay();
        File.CreateSymbolicLink(Path.Combine(Bucket, "escape.txt"), Path.Combine(World.HomePath, "outside.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Bucket, "home"), World.HomePath);

        using var alice = Browser(AliceToken);
        using var file = await alice.GetAsync("/web/fewgenomes/test/escape.txt");
        using var folder = await alice.GetAsync("/web/fewgenomes/test/home/outside.txt");
        using var registry = await alice.GetAsync("/web/fewgenomes/test/home/registry.toml");

        foreach (var response in new[] { file, folder, registry })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("secret", await response.Content.ReadAsStringAsync());
        }
    }

    private async Task<(int Status, string Body)> RawGetAsync(string target, string token)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Server.Address.Host, Server.Address.Port);
        await using var stream = tcp.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {Server.Address.Authority}\r\nCookie: ar_session={token}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }
}
