using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Tests.Storage;

/// <summary>
/// The GCS test server answers as GCS does where the contract suite does not reach: uploads of
/// several resumable chunks, ranged downloads, pages, and the upload kinds other clients use.
/// </summary>
[Collection(GcsServerCollection.Name)]
public sealed class GcsTestServerTests(GcsServerFixture server) : IDisposable
{
    private readonly HttpClient _http = new();
    private readonly string _prefix = $"server-{Guid.NewGuid():N}/";
    private const string Bucket = "cpg-fewgenomes-test";

    public void Dispose() => _http.Dispose();

    private string Objects => $"{server.Endpoint}b/{Bucket}/o";
    private string Upload => Objects.Replace("/storage/v1/", "/upload/storage/v1/", StringComparison.Ordinal);

    [Fact]
    public async Task An_upload_of_several_resumable_chunks_arrives_whole()
    {
        using var store = server.NewStore();
        const long size = 21L * 1024 * 1024 + 5;   // three 10 MiB chunks, the last one short
        var uri = StorageUri.Gs(Bucket, _prefix + "three-chunks.bin");

        Assert.Equal(size, (await store.WriteAsync(uri, new PatternStream(size))).Size);

        await using var read = await store.OpenReadAsync(uri);
        Assert.Equal(SHA256.HashData(new PatternStream(size)), await SHA256.HashDataAsync(read));
    }

    [Fact]
    public async Task A_chunk_with_more_to_come_gets_308_and_the_range_so_far_and_no_object_exists_until_the_last()
    {
        using var start = new HttpRequestMessage(HttpMethod.Post, $"{Upload}?uploadType=resumable&name={Uri.EscapeDataString(_prefix + "r.txt")}");
        var session = (await _http.SendAsync(start)).Headers.Location!;

        var first = await Put(session, "hello ", "bytes 0-5/*");
        Assert.Equal((HttpStatusCode)308, first.StatusCode);
        Assert.Equal("bytes=0-5", first.Headers.GetValues("Range").Single());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"{Objects}/{Uri.EscapeDataString(_prefix + "r.txt")}")).StatusCode);

        var status = await Put(session, "", "bytes */*");
        Assert.Equal((HttpStatusCode)308, status.StatusCode);
        var last = await Put(session, "world", "bytes 6-10/11");
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        Assert.Equal("11", JsonDocument.Parse(await last.Content.ReadAsStringAsync()).RootElement.GetProperty("size").GetString());
        Assert.Equal("hello world", await _http.GetStringAsync($"{Objects}/{Uri.EscapeDataString(_prefix + "r.txt")}?alt=media"));
    }

    [Fact]
    public async Task Media_and_multipart_uploads_store_the_object_and_ranges_read_part_of_it()
    {
        var media = await _http.PostAsync($"{Upload}?uploadType=media&name={Uri.EscapeDataString(_prefix + "m.txt")}", new StringContent("0123456789"));
        Assert.Equal(HttpStatusCode.OK, media.StatusCode);

        var multipart = new MultipartContent("related")
        {
            new StringContent($$"""{"name":"{{_prefix}}mp.txt","contentType":"text/x-test"}""", Encoding.UTF8, "application/json"),
            new StringContent("multi"),
        };
        var stored = JsonDocument.Parse(await (await _http.PostAsync($"{Upload}?uploadType=multipart", multipart)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("text/x-test", "5"), (stored.GetProperty("contentType").GetString(), stored.GetProperty("size").GetString()));

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"{Objects}/{Uri.EscapeDataString(_prefix + "m.txt")}?alt=media");
        ranged.Headers.Range = new RangeHeaderValue(2, 4);
        var part = await _http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("234", await part.Content.ReadAsStringAsync());
        Assert.Equal("bytes 2-4/10", part.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task A_listing_comes_in_pages_that_together_hold_everything_once()
    {
        using var store = server.NewStore();
        foreach (var name in new[] { "a", "b/1", "b/2", "c", "d/1", "e" })
            await store.WriteAsync(StorageUri.Gs(Bucket, _prefix + name), new MemoryStream([1]));

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = JsonDocument.Parse(await _http.GetStringAsync(
                $"{Objects}?prefix={Uri.EscapeDataString(_prefix)}&delimiter=/&maxResults=2" + (token is null ? "" : $"&pageToken={Uri.EscapeDataString(token)}"))).RootElement;
            if (page.TryGetProperty("items", out var items)) seen.AddRange(items.EnumerateArray().Select(i => i.GetProperty("name").GetString()![_prefix.Length..]));
            if (page.TryGetProperty("prefixes", out var prefixes)) seen.AddRange(prefixes.EnumerateArray().Select(p => p.GetString()![_prefix.Length..]));
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString() : null;
        } while (token is not null);

        Assert.Equal(["a", "b/", "c", "d/", "e"], seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_call_the_server_does_not_know_is_501_naming_it()
    {
        var response = await _http.PatchAsync($"{Objects}/x", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.Contains("PATCH", await response.Content.ReadAsStringAsync());
    }

    private async Task<HttpResponseMessage> Put(Uri session, string body, string contentRange)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new StringContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        return await _http.SendAsync(request);
    }
}
