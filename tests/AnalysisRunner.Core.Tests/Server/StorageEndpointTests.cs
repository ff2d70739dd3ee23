using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tests.Web;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// Listing and reading buckets through the server: the token's user gets exactly the scope the
/// in-process storage cmdlets give that user (alice: fewgenomes; bob: othergenomes), refusals carry
/// the in-process ErrorId, and nothing but gs:// paths of a scope's buckets is ever read.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class StorageEndpointTests(PostgresFixture postgres) : WebTest(postgres)
{
    private const string AliceTest = "gs://cpg-fewgenomes-test/";
    private const string BobTest = "gs://cpg-othergenomes-test/";

    private async Task WriteAsync(string dataset, string path, string text) =>
        await World.Deployment.ScopedStore(dataset, AccessLevel.Test)
            .WriteAsync(StorageUri.Parse(path), new MemoryStream(Encoding.UTF8.GetBytes(text)));

    /// <summary>What the storage cmdlets do in process for <paramref name="user"/> (no run): the reader the server must agree with.</summary>
    private ScopedStorageReader InProcess(string user, string? dataset = null, AccessLevel? level = null) =>
        new(uri => new StorageAccess(World.Deployment).For(uri, dataset, level, user, run: null));

    private HttpStorageReader Through(string token, string? dataset = null, AccessLevel? level = null) =>
        new(new ServerConnection(Server.Address, token), dataset, level);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    private static async Task<string> ReadAllAsync(Task<Stream> opening)
    {
        await using var stream = await opening;
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    [BackendFact]
    public async Task A_member_lists_and_reads_her_datasets_test_bucket_as_in_process()
    {
        await WriteAsync("fewgenomes", AliceTest + "hello/out.txt", "Hello, world\n");
        await WriteAsync("fewgenomes", AliceTest + "hello/deeper/more.txt", "more");
        await WriteAsync("fewgenomes", AliceTest + "other.txt", "other");
        using var alice = Through(AliceToken);
        var local = InProcess(WebWorld.Alice);

        foreach (var (path, recurse) in new[] { (AliceTest + "hello/", false), (AliceTest + "hello", true), (AliceTest, false), (AliceTest + "hello/out.txt", false) })
        {
            var uri = StorageUri.Parse(path);
            var remote = await ToListAsync(alice.GetItemsAsync(uri, recurse));
            var expected = await ToListAsync(local.GetItemsAsync(uri, recurse));
            Assert.NotEmpty(expected);
            Assert.Equal(expected.Select(e => (e.Path, e.IsPrefix, e.Size)), remote.Select(e => (e.Path, e.IsPrefix, e.Size)));
        }
        Assert.Equal([AliceTest + "hello/deeper/", AliceTest + "hello/out.txt"],
            (await ToListAsync(alice.GetItemsAsync(StorageUri.Parse(AliceTest + "hello/"), recurse: false))).Select(e => e.Path));
        Assert.Equal("Hello, world\n", await ReadAllAsync(alice.OpenReadAsync(StorageUri.Parse(AliceTest + "hello/out.txt"))));

        var missing = await Assert.ThrowsAsync<ServerProblemException>(() => alice.OpenReadAsync(StorageUri.Parse(AliceTest + "hello/nothing.txt")));
        Assert.Equal(("ObjectNotFound", ErrorKind.ObjectNotFound, 404), (missing.ErrorId, missing.Kind, missing.Status));
    }

    [BackendFact]
    public async Task A_long_listing_comes_in_pages_that_neither_repeat_nor_skip_an_entry()
    {
        var written = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var path = $"{AliceTest}many/{(char)('a' + i)}.txt";
            await WriteAsync("fewgenomes", path, i.ToString());
            written.Add(path);
        }
        using var client = Server.Client(AliceToken);
        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var query = $"?path={Uri.EscapeDataString(AliceTest + "many/")}&delimiter=/&first=3" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            var page = await client.GetFromJsonAsync<StoragePage>(StorageRoutes.Items + query, ApiJson.Options);
            Assert.NotNull(page);
            Assert.InRange(page.Items.Count, 1, 3);
            seen.AddRange(page.Items.Select(item => item.Path));
            after = page.NextCursor;
            pages++;
        } while (after is not null);
        Assert.Equal(3, pages);
        Assert.Equal(written, seen);
        using var alice = Through(AliceToken);
        Assert.Equal(written, (await ToListAsync(alice.GetItemsAsync(StorageUri.Parse(AliceTest + "many/"), recurse: true))).Select(e => e.Path));

        await ProblemAssert.IsProblemAsync(await client.GetAsync($"{StorageRoutes.Items}?path={Uri.EscapeDataString(AliceTest)}&first=0"),
            400, "InvalidPageSize", ErrorKind.InvalidArgument);
        await ProblemAssert.IsProblemAsync(await client.GetAsync($"{StorageRoutes.Items}?path={Uri.EscapeDataString(AliceTest)}&delimiter=-"),
            400, "UnsupportedDelimiter", ErrorKind.InvalidArgument);
    }

    [BackendFact]
    public async Task Another_datasets_bucket_is_403_with_the_in_process_ErrorId_and_nothing_of_it_is_sent()
    {
        await WriteAsync("othergenomes", BobTest + "secret.txt", "bob's secret");
        var inProcess = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => InProcess(WebWorld.Alice).OpenReadAsync(StorageUri.Parse(BobTest + "secret.txt")));
        Assert.Equal(ErrorKind.PermissionDenied, inProcess.Kind);
        using var alice = Through(AliceToken);

        var read = await Assert.ThrowsAsync<ServerProblemException>(() => alice.OpenReadAsync(StorageUri.Parse(BobTest + "secret.txt")));
        Assert.Equal((inProcess.ErrorId, ErrorKind.PermissionDenied, 403), (read.ErrorId, read.Kind, read.Status));
        var listed = await Assert.ThrowsAsync<ServerProblemException>(() => ToListAsync(alice.GetItemsAsync(StorageUri.Parse(BobTest), recurse: true)));
        Assert.Equal((inProcess.ErrorId, 403), (listed.ErrorId, listed.Status));
        Assert.DoesNotContain("bob's secret", read.Message);

        // Naming bob's dataset as the scope does not make alice a member of it.
        using var asBob = Through(AliceToken, "othergenomes", AccessLevel.Test);
        var named = await Assert.ThrowsAsync<ServerProblemException>(() => asBob.OpenReadAsync(StorageUri.Parse(BobTest + "secret.txt")));
        Assert.Equal((inProcess.ErrorId, 403), (named.ErrorId, named.Status));
        // Her own scope named with bob's bucket: the bucket is outside it, as in process.
        using var ownScope = Through(AliceToken, "fewgenomes", AccessLevel.Test);
        var outside = await Assert.ThrowsAsync<ServerProblemException>(() => ownScope.OpenReadAsync(StorageUri.Parse(BobTest + "secret.txt")));
        Assert.Equal(("BucketNotAllowed", 403), (outside.ErrorId, outside.Status));

        // bob himself reads it: the refusal above was alice's scope, not a broken bucket.
        using var bob = Through(BobToken);
        Assert.Equal("bob's secret", await ReadAllAsync(bob.OpenReadAsync(StorageUri.Parse(BobTest + "secret.txt"))));
    }

    [BackendFact]
    public async Task Dot_dot_paths_look_alike_buckets_and_local_paths_are_refused_with_the_in_process_ErrorIds()
    {
        await WriteAsync("fewgenomes", AliceTest + "hello/out.txt", "Hello");
        using var client = Server.Client(AliceToken);

        async Task Refused(string path, int status, string errorId, ErrorKind kind, string? dataset = null)
        {
            var query = "?path=" + Uri.EscapeDataString(path) + (dataset is null ? "" : "&dataset=" + dataset);
            await ProblemAssert.IsProblemAsync(await client.GetAsync(StorageRoutes.Content + query), status, errorId, kind);
            await ProblemAssert.IsProblemAsync(await client.GetAsync(StorageRoutes.Items + query), status, errorId, kind);
        }

        await Refused(AliceTest + "hello/../../cpg-othergenomes-test/secret.txt", 400, "InvalidStoragePath", ErrorKind.InvalidArgument);
        // Escaped dots are decoded before the path is parsed, so they are '..' too.
        await ProblemAssert.IsProblemAsync(await client.GetAsync(StorageRoutes.Content + "?path=gs://cpg-fewgenomes-test/hello/%2e%2e/%2E%2E/cpg-othergenomes-test/secret.txt"),
            400, "InvalidStoragePath", ErrorKind.InvalidArgument);
        await Refused("gs://../etc/passwd", 400, "InvalidBucketName", ErrorKind.InvalidArgument);
        // A bucket whose name starts like hers is no bucket of her dataset: no scope (as in process), or outside the named one.
        await Refused("gs://cpg-fewgenomes-test-evil/hello/out.txt", 400, "NoStorageScope", ErrorKind.InvalidArgument);
        await Refused("gs://cpg-fewgenomes-test-evil/hello/out.txt", 403, "BucketNotAllowed", ErrorKind.PermissionDenied, dataset: "fewgenomes");
        await Refused("file:///etc/passwd", 400, "UnsupportedScheme", ErrorKind.InvalidArgument);
        await Refused("/etc/passwd", 400, "UnsupportedScheme", ErrorKind.InvalidArgument, dataset: "fewgenomes");
        await Refused("file://" + World.Deployment.Buckets.Locate("cpg-fewgenomes-test") + "/hello/out.txt", 400, "UnsupportedScheme", ErrorKind.InvalidArgument);
        await Refused("https://example.org/x", 400, "UnsupportedScheme", ErrorKind.InvalidArgument);
        await Refused("", 400, "InvalidStoragePath", ErrorKind.InvalidArgument);
        await ProblemAssert.IsProblemAsync(await client.GetAsync(StorageRoutes.Content), 400, "InvalidStoragePath", ErrorKind.InvalidArgument);

        // The same look-alike refused the same way in process.
        var inProcess = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() =>
            InProcess(WebWorld.Alice).OpenReadAsync(StorageUri.Parse("gs://cpg-fewgenomes-test-evil/hello/out.txt")));
        Assert.Equal("NoStorageScope", inProcess.ErrorId);
    }

    [BackendFact]
    public async Task A_request_without_a_token_is_401_and_reads_nothing()
    {
        await WriteAsync("fewgenomes", AliceTest + "hello/out.txt", "Hello");
        using var anonymous = Server.Client();
        var query = "?path=" + Uri.EscapeDataString(AliceTest + "hello/out.txt");
        await ProblemAssert.IsProblemAsync(await anonymous.GetAsync(StorageRoutes.Content + query), 401, "TokenMissing", ErrorKind.AuthenticationError);
        await ProblemAssert.IsProblemAsync(await anonymous.GetAsync(StorageRoutes.Items + query), 401, "TokenMissing", ErrorKind.AuthenticationError);
        using var forged = Server.Client("ar_" + new string('x', 40));
        var response = await forged.GetAsync(StorageRoutes.Content + query);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [BackendFact]
    public async Task The_OpenAPI_document_lists_the_storage_routes()
    {
        using var response = await Server.Client().GetAsync(ApiRoutes.OpenApi);
        var paths = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("paths");
        foreach (var path in new[] { StorageRoutes.Items, StorageRoutes.Content })
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty("get", out _), $"the document has no GET {path}");
    }
}
