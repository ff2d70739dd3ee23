using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Tests.Storage;

public class StorageUriTests
{
    [Fact]
    public void Gs_uris_parse_into_bucket_and_key()
    {
        var uri = StorageUri.Parse("gs://cpg-fewgenomes-test/onboarding/alice/hello.txt");
        Assert.Equal(StorageScheme.Gs, uri.Scheme);
        Assert.Equal("cpg-fewgenomes-test", uri.Bucket);
        Assert.Equal("onboarding/alice/hello.txt", uri.Key);
        Assert.Equal("hello.txt", uri.Name);
        Assert.False(uri.IsPrefix);
        Assert.True(StorageUri.Parse("gs://cpg-fewgenomes-test/onboarding/").IsPrefix);
        Assert.True(StorageUri.Parse("gs://cpg-fewgenomes-test").IsPrefix);
        Assert.Equal("gs://cpg-fewgenomes-test/onboarding/x", StorageUri.Parse("gs://cpg-fewgenomes-test/onboarding/").Combine("x").ToString());
    }

    [Theory]
    [InlineData("file:///tmp/a%20b/c.txt", "/tmp/a b/c.txt")]
    [InlineData("/tmp/x/y.txt", "/tmp/x/y.txt")]
    public void File_uris_and_absolute_paths_are_local_files(string text, string path)
    {
        var uri = StorageUri.Parse(text);
        Assert.Equal(StorageScheme.File, uri.Scheme);
        Assert.Equal(path, uri.LocalPath);
    }

    [Theory]
    [InlineData("gs://cpg-fewgenomes-test/a/../b", "InvalidStoragePath")]
    [InlineData("gs://cpg-fewgenomes-test/..", "InvalidStoragePath")]
    [InlineData("/tmp/../etc/passwd", "InvalidStoragePath")]
    [InlineData("file:///tmp/a/../b", "InvalidStoragePath")]
    [InlineData("relative/path", "InvalidStoragePath")]
    [InlineData("file://relative", "InvalidStoragePath")]
    [InlineData("s3://bucket/key", "UnsupportedScheme")]
    [InlineData("https://storage.googleapis.com/b/k", "UnsupportedScheme")]
    [InlineData("gs:///key", "InvalidBucketName")]
    [InlineData("gs://", "InvalidBucketName")]
    [InlineData("gs://Upper/key", "InvalidBucketName")]
    public void Bad_paths_are_typed_errors_naming_the_path(string text, string errorId)
    {
        var ex = Assert.Throws<StorageException>(() => StorageUri.Parse(text));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(text, ex.Target);
    }

    [Fact]
    public void Keys_are_limited_to_1024_bytes_of_UTF8_not_characters()
    {
        Assert.Equal(1024, StorageUri.Parse("gs://cpg-x-test/" + new string('a', 1024)).Key.Length);
        var text = "gs://cpg-x-test/" + new string('é', 513);   // 513 characters, 1026 bytes
        var ex = Assert.Throws<StorageException>(() => StorageUri.Parse(text));
        Assert.Equal("KeyTooLong", ex.ErrorId);
        Assert.Equal(text, ex.Target);
    }
}
