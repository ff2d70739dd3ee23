using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Storage;

public sealed class LocalFolderStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalFolderStore _store;

    public LocalFolderStoreContractTests() => _store = new LocalFolderStore(_folder.Combine("buckets"));

    protected override IObjectStore Store => _store;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_bucket_is_a_folder_under_the_buckets_directory()
    {
        await WriteText("a/b.txt", "x");
        Assert.Equal("x", File.ReadAllText(_folder.Combine("buckets", Bucket, Prefix + "a", "b.txt")));
        Assert.Equal(Uri("a/b.txt"), _store.ToBucketUri(_folder.Combine("buckets", Bucket, Prefix + "a", "b.txt")));
        Assert.Null(_store.ToBucketUri(_folder.Combine("elsewhere", "b.txt")));
    }

    [Fact]
    public async Task Temp_files_of_writes_in_flight_are_never_listed_or_served()
    {
        await WriteText("a/real.txt", "x");
        var temp = _folder.Combine("buckets", Bucket, Prefix + "a", LocalFolderStore.TempFilePrefix + "123");
        File.WriteAllText(temp, "half");

        Assert.Equal(["a/real.txt"], (await List(StorageUri.Gs(Bucket, Prefix))).Select(e => e.Uri.Key[Prefix.Length..]));
        Assert.False(await Store.ExistsAsync(StorageUri.Gs(Bucket, Prefix + "a/" + LocalFolderStore.TempFilePrefix + "123")));
        var ex = await Assert.ThrowsAsync<StorageException>(() => WriteText("a/" + LocalFolderStore.TempFilePrefix + "x", "no"));
        Assert.Equal("InvalidStoragePath", ex.ErrorId);
    }

    [Fact]
    public async Task An_interrupted_write_leaves_no_file_behind_at_all()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync(Uri("p/partial.bin"), new PatternStream(1 << 20, failAfter: 1000)));
        Assert.Empty(Directory.GetFiles(_folder.Combine("buckets", Bucket), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task File_uris_are_plain_files()
    {
        var path = _folder.Combine("plain", "f.txt");
        await Store.WriteAsync(StorageUri.Parse("file://" + path), new MemoryStream("hi"u8.ToArray()), new WriteOptions { ReadOnly = true });
        Assert.Equal("hi", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
        Assert.Equal(["f.txt"], (await List(StorageUri.Parse(_folder.Combine("plain") + "/"))).Select(e => e.Name));
    }

    [Fact]
    public async Task A_listing_does_not_go_through_a_link_below_the_buckets_folder_to_what_lies_outside_it()
    {
        await WriteText("a/real.txt", "x");
        var elsewhere = _folder.Combine("elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, "secret.txt"), "not in the bucket");
        File.CreateSymbolicLink(_folder.Combine("buckets", Bucket, Prefix + "a", "linked"), elsewhere);

        Assert.Equal(["a/real.txt"], (await List(StorageUri.Gs(Bucket, Prefix))).Select(e => e.Uri.Key[Prefix.Length..]));
    }

    [Fact]
    public async Task A_read_or_listing_through_a_link_in_a_bucket_is_refused_as_LinkInBucket_and_shows_nothing_of_what_lies_outside()
    {
        await WriteText("a/real.txt", "x");
        var elsewhere = _folder.Combine("elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, "secret.txt"), "not in the bucket");
        var bucketFolder = _folder.Combine("buckets", Bucket, Prefix + "a");
        File.CreateSymbolicLink(Path.Combine(bucketFolder, "linked"), elsewhere);
        File.CreateSymbolicLink(Path.Combine(bucketFolder, "secret.txt"), Path.Combine(elsewhere, "secret.txt"));

        var readFile = await Assert.ThrowsAsync<StorageException>(() => Store.OpenReadAsync(Uri("a/secret.txt")));
        var readBelow = await Assert.ThrowsAsync<StorageException>(() => Store.OpenReadAsync(Uri("a/linked/secret.txt")));
        var listBelow = await Assert.ThrowsAsync<StorageException>(() => List(Uri("a/linked/"), "/"));

        Assert.Equal(["LinkInBucket", "LinkInBucket", "LinkInBucket"], new[] { readFile, readBelow, listBelow }.Select(e => e.ErrorId));
        Assert.Contains("Cannot read", readFile.Message);
        Assert.Equal(["a/real.txt"], (await List(Uri("a/"), "/")).Select(e => e.Uri.Key[Prefix.Length..]));
    }

    [Fact]
    public async Task A_write_through_a_link_below_the_buckets_folder_is_refused_as_LinkInBucket_naming_the_link_and_writes_nothing_there()
    {
        var elsewhere = _folder.Combine("elsewhere");
        Directory.CreateDirectory(elsewhere);
        Directory.CreateDirectory(_folder.Combine("buckets", Bucket, Prefix));
        var link = _folder.Combine("buckets", Bucket, Prefix + "sub");
        File.CreateSymbolicLink(link, elsewhere);

        var ex = await Assert.ThrowsAsync<StorageException>(() => WriteText("sub/deeper/object.txt", "x"));
        var asFile = await Assert.ThrowsAsync<StorageException>(() =>
            Store.WriteAsync(StorageUri.Parse(Path.Combine(link, "object.txt")), new MemoryStream("x"u8.ToArray())));

        Assert.Equal("LinkInBucket", ex.ErrorId);
        Assert.Equal(link, ex.Target);
        Assert.Equal("LinkInBucket", asFile.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
    }

    [Fact]
    public async Task A_link_planted_at_a_fixed_temporary_name_is_removed_not_written_through()
    {
        var victim = _folder.Combine("victim.txt");
        File.WriteAllText(victim, "mine");
        var folder = _folder.Combine("buckets", Bucket, Prefix + "a");
        Directory.CreateDirectory(folder);
        File.CreateSymbolicLink(Path.Combine(folder, LocalFolderStore.TempFilePrefix + "fixed"), victim);

        await WriteText("a/out.txt", "copied", new WriteOptions { TemporaryName = "fixed" });

        Assert.Equal("mine", File.ReadAllText(victim));
        Assert.Equal("copied", File.ReadAllText(Path.Combine(folder, "out.txt")));
        Assert.Equal(["out.txt"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
    }
}

[Collection(GcsServerCollection.Name)]
public sealed class GcsStoreContractTests(GcsServerFixture server) : ObjectStoreContract, IDisposable
{
    private readonly GcsStore _store = server.NewStore();

    protected override IObjectStore Store => _store;

    public void Dispose() => _store.Dispose();
}
