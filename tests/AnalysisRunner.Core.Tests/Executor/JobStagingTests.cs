using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// The gcs backend's upload of a job's resources from the buckets cache, which the job can write while the
/// executor reads it: a link there is never followed up to the bucket.
/// </summary>
public sealed class JobStagingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ar-staging-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly RunnerHome _home;
    private readonly string _remote;
    private readonly JobStaging _staging;

    public JobStagingTests()
    {
        _home = new RunnerHome(Path.Combine(_root, "home"));
        _remote = Path.Combine(_root, "remote");
        Directory.CreateDirectory(_home.KeysDirectory);
        File.WriteAllText(Path.Combine(_home.KeysDirectory, "run-token.key"), "SECRET-KEY");
        _staging = new JobStaging(_home, new LocalFolderStore(_remote), null);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Cache(string relative)
    {
        var path = Path.Combine(_home.BucketsDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    [Fact]
    public void A_resource_folder_goes_up_file_by_file()
    {
        File.WriteAllText(Cache("cpg-fewgenomes-test-tmp/b/1/out/a.txt"), "a");
        File.WriteAllText(Cache("cpg-fewgenomes-test-tmp/b/1/out/sub/b.txt"), "b");

        _staging.Upload([Path.Combine(_home.BucketsDirectory, "cpg-fewgenomes-test-tmp/b/1/out")], []);

        Assert.Equal("a", File.ReadAllText(Path.Combine(_remote, "cpg-fewgenomes-test-tmp/b/1/out/a.txt")));
        Assert.Equal("b", File.ReadAllText(Path.Combine(_remote, "cpg-fewgenomes-test-tmp/b/1/out/sub/b.txt")));
    }

    [Fact]
    public void A_link_in_a_resource_folder_to_the_runners_key_fails_the_upload_and_the_key_never_goes_up()
    {
        File.WriteAllText(Cache("cpg-fewgenomes-test-tmp/b/1/out/a.txt"), "a");
        File.CreateSymbolicLink(Cache("cpg-fewgenomes-test-tmp/b/1/out/key.txt"), Path.Combine(_home.KeysDirectory, "run-token.key"));

        Assert.ThrowsAny<IOException>(() => _staging.Upload([Path.Combine(_home.BucketsDirectory, "cpg-fewgenomes-test-tmp/b/1/out")], []));

        Assert.False(File.Exists(Path.Combine(_remote, "cpg-fewgenomes-test-tmp/b/1/out/key.txt")));
        Assert.DoesNotContain(Directory.Exists(_remote) ? Directory.EnumerateFiles(_remote, "*", SearchOption.AllDirectories) : [],
            file => File.ReadAllText(file).Contains("SECRET-KEY"));
    }

    [Fact]
    public void A_resource_that_is_itself_a_link_or_sits_below_a_linked_folder_is_refused()
    {
        File.CreateSymbolicLink(Cache("cpg-fewgenomes-test-tmp/b/1/out"), Path.Combine(_home.KeysDirectory, "run-token.key"));
        Directory.CreateDirectory(Cache("cpg-fewgenomes-test-tmp/b/2/x"));
        File.CreateSymbolicLink(Cache("cpg-fewgenomes-test-tmp/b/3"), _home.KeysDirectory);

        Assert.ThrowsAny<IOException>(() => _staging.Upload([Path.Combine(_home.BucketsDirectory, "cpg-fewgenomes-test-tmp/b/1/out")], []));
        Assert.ThrowsAny<IOException>(() => _staging.Upload([Path.Combine(_home.BucketsDirectory, "cpg-fewgenomes-test-tmp/b/3/run-token.key")], []));
        Assert.False(Directory.Exists(_remote) && Directory.EnumerateFiles(_remote, "*", SearchOption.AllDirectories).Any());
    }
}
