using System.Security.Cryptography;
using System.Text;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Storage;

/// <summary>
/// What every IObjectStore does, run against each backend. Each test works under its own random
/// prefix of one bucket, so backends with shared state (the emulator) need no clean-up between tests.
/// </summary>
public abstract class ObjectStoreContract
{
    protected const string Bucket = "cpg-fewgenomes-test";
    protected readonly string Prefix = $"contract-{Guid.NewGuid():N}/";

    protected abstract IObjectStore Store { get; }

    protected StorageUri Uri(string key) => StorageUri.Gs(Bucket, Prefix + key);

    protected Task<StorageObjectInfo> WriteText(string key, string text, WriteOptions? options = null) =>
        Store.WriteAsync(Uri(key), new MemoryStream(Encoding.UTF8.GetBytes(text)), options);

    protected async Task<string> ReadText(StorageUri uri)
    {
        await using var stream = await Store.OpenReadAsync(uri);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    protected async Task<List<StorageEntry>> List(StorageUri prefix, string? delimiter = null)
    {
        var entries = new List<StorageEntry>();
        await foreach (var entry in Store.ListAsync(prefix, delimiter)) entries.Add(entry);
        return entries;
    }

    [Fact]
    public async Task An_object_written_can_be_read_back_with_its_size()
    {
        var written = await WriteText("a/hello.txt", "Hello, world!\n");

        Assert.Equal(14, written.Size);
        Assert.Equal("Hello, world!\n", await ReadText(Uri("a/hello.txt")));
        Assert.True(await Store.ExistsAsync(Uri("a/hello.txt")));
        var info = await Store.GetInfoAsync(Uri("a/hello.txt"));
        Assert.Equal(14, info.Size);
        Assert.Equal($"gs://{Bucket}/{Prefix}a/hello.txt", info.Path);
        Assert.NotNull(info.Updated);
    }

    [Fact]
    public async Task Large_objects_stream_through_byte_for_byte()
    {
        const int size = 3 * 1024 * 1024 + 17;
        var written = await Store.WriteAsync(Uri("big.bin"), new PatternStream(size));
        Assert.Equal(size, written.Size);

        await using var read = await Store.OpenReadAsync(Uri("big.bin"));
        Assert.Equal(SHA256.HashData(new PatternStream(size)), await SHA256.HashDataAsync(read));
    }

    [Fact]
    public async Task Writing_again_replaces_the_object_unless_overwrite_is_off()
    {
        await WriteText("x.txt", "first");
        await WriteText("x.txt", "second");
        Assert.Equal("second", await ReadText(Uri("x.txt")));

        var ex = await Assert.ThrowsAsync<StorageException>(() => WriteText("x.txt", "third", new WriteOptions { Overwrite = false }));
        Assert.Equal("ObjectAlreadyExists", ex.ErrorId);
        Assert.Equal(Uri("x.txt").ToString(), ex.Target);
        Assert.Equal("second", await ReadText(Uri("x.txt")));
    }

    [Fact]
    public async Task Listing_without_a_delimiter_returns_every_object_under_the_prefix_in_key_order()
    {
        foreach (var key in new[] { "b/2.txt", "a.txt", "b/1.txt", "b/c/3.txt", "bz.txt" }) await WriteText(key, key);

        var all = await List(StorageUri.Gs(Bucket, Prefix));
        Assert.Equal(["a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "bz.txt"], all.Select(e => e.Uri.Key[Prefix.Length..]));
        Assert.All(all, e => Assert.False(e.IsPrefix));
        Assert.Equal(7, all.Single(e => e.Uri.Key.EndsWith("b/1.txt")).Size);

        var partial = await List(StorageUri.Gs(Bucket, Prefix + "b"));
        Assert.Equal(["b/1.txt", "b/2.txt", "b/c/3.txt", "bz.txt"], partial.Select(e => e.Uri.Key[Prefix.Length..]));
    }

    [Fact]
    public async Task Listing_with_a_delimiter_folds_deeper_keys_into_prefixes()
    {
        foreach (var key in new[] { "a.txt", "b/1.txt", "b/c/3.txt", "d/4.txt" }) await WriteText(key, key);

        var top = await List(StorageUri.Gs(Bucket, Prefix), "/");
        Assert.Equal(["a.txt", "b/", "d/"], top.Select(e => e.Name));
        Assert.Equal([false, true, true], top.Select(e => e.IsPrefix));
        Assert.Equal($"gs://{Bucket}/{Prefix}b/", top[1].Path);

        var inner = await List(StorageUri.Gs(Bucket, Prefix + "b/"), "/");
        Assert.Equal(["1.txt", "c/"], inner.Select(e => e.Name));
    }

    [Fact]
    public async Task Listing_a_prefix_with_nothing_under_it_is_empty()
    {
        Assert.Empty(await List(StorageUri.Gs(Bucket, Prefix + "nothing/")));
        Assert.Empty(await List(StorageUri.Gs("cpg-nobody-ever-test", Prefix), "/"));
    }

    [Fact]
    public async Task A_missing_object_is_ObjectNotFound_naming_the_path()
    {
        var missing = Uri("missing.txt");
        Assert.False(await Store.ExistsAsync(missing));
        foreach (var call in new Func<Task>[]
                 {
                     () => Store.OpenReadAsync(missing),
                     () => Store.GetInfoAsync(missing),
                     () => Store.DeleteAsync(missing),
                     () => Store.CopyAsync(missing, Uri("copy.txt")),
                 })
        {
            var ex = await Assert.ThrowsAsync<StorageException>(call);
            Assert.Equal("ObjectNotFound", ex.ErrorId);
            Assert.Equal(ErrorKind.ObjectNotFound, ex.Kind);
            Assert.Equal(missing.ToString(), ex.Target);
            Assert.Contains(missing.ToString(), ex.Message);
        }
    }

    [Fact]
    public async Task Delete_removes_the_object()
    {
        await WriteText("gone.txt", "x");
        await Store.DeleteAsync(Uri("gone.txt"));
        Assert.False(await Store.ExistsAsync(Uri("gone.txt")));
        Assert.Empty(await List(StorageUri.Gs(Bucket, Prefix)));
    }

    [Fact]
    public async Task Copy_makes_an_independent_object_and_honours_overwrite_off()
    {
        await WriteText("src.txt", "source");
        var copied = await Store.CopyAsync(Uri("src.txt"), StorageUri.Gs("cpg-fewgenomes-test-tmp", Prefix + "dst.txt"));
        Assert.Equal(6, copied.Size);
        Assert.Equal("source", await ReadText(StorageUri.Gs("cpg-fewgenomes-test-tmp", Prefix + "dst.txt")));

        await WriteText("other.txt", "other");
        var ex = await Assert.ThrowsAsync<StorageException>(() => Store.CopyAsync(Uri("src.txt"), Uri("other.txt"), new WriteOptions { Overwrite = false }));
        Assert.Equal("ObjectAlreadyExists", ex.ErrorId);
        Assert.Equal("other", await ReadText(Uri("other.txt")));
    }

    [Fact]
    public async Task An_interrupted_upload_leaves_no_object_and_keeps_the_previous_one()
    {
        // Bigger than one resumable chunk (10 MiB), so on GCS part of it has really been sent.
        var failing = new PatternStream(64L * 1024 * 1024, failAfter: 11L * 1024 * 1024);
        await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync(Uri("partial.bin"), failing));

        Assert.False(await Store.ExistsAsync(Uri("partial.bin")));
        Assert.Empty(await List(StorageUri.Gs(Bucket, Prefix)));

        await WriteText("kept.txt", "old");
        await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync(Uri("kept.txt"), new PatternStream(1024, failAfter: 100)));
        Assert.Equal("old", await ReadText(Uri("kept.txt")));
        Assert.Equal(["kept.txt"], (await List(StorageUri.Gs(Bucket, Prefix))).Select(e => e.Name));
    }

    [Fact]
    public async Task A_prefix_is_not_an_object()
    {
        var ex = await Assert.ThrowsAsync<StorageException>(() => Store.OpenReadAsync(Uri("folder/")));
        Assert.Equal("NotAnObject", ex.ErrorId);
    }

    [Fact]
    public async Task Staging_uploads_and_downloads_files_and_plans_recursive_copies()
    {
        using var folder = new TempFolder();
        var local = folder.Combine("in", "data.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        await File.WriteAllTextAsync(local, "payload");
        File.WriteAllText(folder.Combine("in", "second.txt"), "2");
        var staging = new StorageStaging(Store);

        await staging.UploadAsync(local, Uri("up/data.txt"));
        Assert.Equal("payload", await ReadText(Uri("up/data.txt")));
        Assert.Equal(7, await staging.DownloadAsync(Uri("up/data.txt"), folder.Combine("out", "deep", "data.txt")));
        Assert.Equal("payload", File.ReadAllText(folder.Combine("out", "deep", "data.txt")));
        Assert.DoesNotContain(Directory.GetFiles(folder.Combine("out", "deep")), f => Path.GetFileName(f).StartsWith('.'));

        var upload = await staging.PlanCopyAsync(StorageUri.Parse(folder.Combine("in")), Uri("tree/"), recurse: true);
        Assert.Equal([Uri("tree/in/data.txt"), Uri("tree/in/second.txt")], upload.Select(s => s.Destination));
        foreach (var step in upload) await staging.CopyAsync(step);

        var download = await staging.PlanCopyAsync(Uri("tree/in/"), StorageUri.Parse(folder.Combine("back") + "/"), recurse: true);
        foreach (var step in download) await staging.CopyAsync(step);
        Assert.Equal("2", File.ReadAllText(folder.Combine("back", "in", "second.txt")));

        var ex = await Assert.ThrowsAsync<StorageException>(() => staging.PlanCopyAsync(Uri("tree/"), StorageUri.Parse(folder.Path), recurse: false));
        Assert.Equal("RecurseRequired", ex.ErrorId);
    }
}

/// <summary>A readable stream of a repeatable byte pattern, optionally throwing part-way (a dropped connection).</summary>
internal sealed class PatternStream(long length, long failAfter = -1) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (failAfter >= 0 && _position >= failAfter) throw new IOException("The source went away half-way (simulated).");
        var n = (int)Math.Min(count, length - _position);
        if (failAfter >= 0) n = (int)Math.Min(n, Math.Max(1, failAfter - _position));
        for (var i = 0; i < n; i++) buffer[offset + i] = (byte)((_position + i) * 31 % 251);
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
