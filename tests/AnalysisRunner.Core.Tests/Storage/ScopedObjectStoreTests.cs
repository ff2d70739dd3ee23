using System.Text;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Storage;

public sealed class ScopedObjectStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalFolderStore _inner;

    public ScopedObjectStoreTests() => _inner = new LocalFolderStore(_folder.Combine("buckets"));

    public void Dispose() => _folder.Dispose();

    private ScopedObjectStore Scope(AccessLevel level) => new(_inner, "fewgenomes", level);

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    private string[] FilesUnderBuckets() => Directory.Exists(_inner.BucketsDirectory)
        ? Directory.GetFiles(_inner.BucketsDirectory, "*", SearchOption.AllDirectories)
        : [];

    [Fact]
    public void A_scope_may_use_exactly_the_buckets_of_its_layout()
    {
        Assert.Equal(["cpg-fewgenomes-test", "cpg-fewgenomes-test-analysis", "cpg-fewgenomes-test-tmp", "cpg-fewgenomes-test-upload", "cpg-fewgenomes-test-web"],
            Scope(AccessLevel.Test).AllowedBuckets);
        Assert.All(Scope(AccessLevel.Standard).AllowedBuckets, b => Assert.StartsWith("cpg-fewgenomes-main", b));
    }

    [Theory]
    [InlineData("gs://cpg-fewgenomes-main/out.txt")]
    [InlineData("gs://cpg-fewgenomes-main-tmp/out.txt")]
    [InlineData("gs://cpg-otherdataset-test/out.txt")]
    [InlineData("gs://cpg-fewgenomes-testing/out.txt")]
    public async Task A_test_run_writing_outside_its_buckets_is_refused_and_nothing_is_written(string path)
    {
        var uri = StorageUri.Parse(path);
        var ex = await Assert.ThrowsAsync<StorageException>(() => Scope(AccessLevel.Test).WriteAsync(uri, Text("x")));

        Assert.Equal("BucketNotAllowed", ex.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, ex.Kind);
        Assert.Equal(path, ex.Target);
        Assert.Contains(path, ex.Message);
        Assert.Contains("gs://cpg-fewgenomes-test-tmp", ex.Message);
        Assert.Empty(FilesUnderBuckets());
    }

    [Fact]
    public async Task A_test_run_may_not_read_list_or_copy_from_main()
    {
        await _inner.WriteAsync(StorageUri.Parse("gs://cpg-fewgenomes-main/secret.txt"), Text("secret"));
        var scope = Scope(AccessLevel.Test);
        var main = StorageUri.Parse("gs://cpg-fewgenomes-main/secret.txt");

        foreach (var call in new Func<Task>[]
                 {
                     () => scope.OpenReadAsync(main),
                     () => scope.GetInfoAsync(main),
                     () => scope.ExistsAsync(main),
                     () => scope.ListAsync(StorageUri.Parse("gs://cpg-fewgenomes-main/")).GetAsyncEnumerator().MoveNextAsync().AsTask(),
                     () => scope.CopyAsync(main, StorageUri.Parse("gs://cpg-fewgenomes-test/copy.txt")),
                     () => scope.DeleteAsync(main),
                 })
            Assert.Equal("BucketNotAllowed", (await Assert.ThrowsAsync<StorageException>(call)).ErrorId);
        Assert.Single(FilesUnderBuckets());
    }

    [Fact]
    public async Task Local_files_are_outside_every_scope()
    {
        var ex = await Assert.ThrowsAsync<StorageException>(() =>
            Scope(AccessLevel.Full).WriteAsync(StorageUri.Parse(_folder.Combine("buckets", "cpg-fewgenomes-test", "x")), Text("x")));
        Assert.Equal("BucketNotAllowed", ex.ErrorId);
    }

    [Fact]
    public async Task Standard_may_write_new_objects_but_not_delete_or_replace_them_in_main()
    {
        var scope = Scope(AccessLevel.Standard);
        var uri = StorageUri.Parse("gs://cpg-fewgenomes-main-analysis/result.txt");
        await scope.WriteAsync(uri, Text("v1"));

        var delete = await Assert.ThrowsAsync<StorageException>(() => scope.DeleteAsync(uri));
        Assert.Equal("DeleteNotAllowed", delete.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, delete.Kind);
        Assert.Equal(uri.ToString(), delete.Target);
        Assert.Contains("full", delete.Message);

        var replace = await Assert.ThrowsAsync<StorageException>(() => scope.WriteAsync(uri, Text("v2")));
        Assert.Equal("DeleteNotAllowed", replace.ErrorId);
        await using var stream = await scope.OpenReadAsync(uri);
        Assert.Equal("v1", await new StreamReader(stream).ReadToEndAsync());
    }

    [Theory]
    [InlineData(AccessLevel.Full, "gs://cpg-fewgenomes-main/x.txt")]
    [InlineData(AccessLevel.Test, "gs://cpg-fewgenomes-test/x.txt")]
    public async Task Full_and_test_may_delete_and_replace_in_their_buckets(AccessLevel level, string path)
    {
        var scope = Scope(level);
        var uri = StorageUri.Parse(path);
        await scope.WriteAsync(uri, Text("v1"));
        await scope.WriteAsync(uri, Text("v2"));
        await scope.DeleteAsync(uri);
        Assert.False(await scope.ExistsAsync(uri));
    }
}
