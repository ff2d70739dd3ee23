using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Storage;

public class BucketLayoutTests
{
    [Theory]
    [InlineData(AccessLevel.Test, "test")]
    [InlineData(AccessLevel.Standard, "main")]
    [InlineData(AccessLevel.Full, "main")]
    public void Categories_follow_dataset_and_namespace(AccessLevel level, string ns)
    {
        var layout = BucketLayout.Create("fewgenomes", level, name => "gs://" + name);

        Assert.Equal($"gs://cpg-fewgenomes-{ns}", layout.Default);
        Assert.Equal($"gs://cpg-fewgenomes-{ns}-tmp", layout.Tmp);
        Assert.Equal($"gs://cpg-fewgenomes-{ns}-analysis", layout.Categories["analysis"]);
        Assert.Equal($"gs://cpg-fewgenomes-{ns}-upload", layout.Categories["upload"]);
        Assert.Equal($"gs://cpg-fewgenomes-{ns}-web", layout.Categories["web"]);
        Assert.Equal($"https://{ns}-web.populationgenomics.org.au/fewgenomes", layout.Categories["web_url"]);
        Assert.Equal(BucketLayout.CategoryNames, layout.Categories.Keys);
    }

    [Fact]
    public void Every_bucket_but_not_the_web_url_goes_through_the_locator()
    {
        var located = new List<string>();
        BucketLayout.Create("fewgenomes", AccessLevel.Test, name => { located.Add(name); return name; });
        Assert.Equal(["cpg-fewgenomes-test", "cpg-fewgenomes-test-analysis", "cpg-fewgenomes-test-tmp", "cpg-fewgenomes-test-upload", "cpg-fewgenomes-test-web"], located);
    }

    [Fact]
    public void LocalBuckets_puts_buckets_under_the_home_without_creating_them()
    {
        using var folder = new TempFolder();
        var home = new RunnerHome(folder.Path);
        var buckets = new LocalBuckets(home);

        var path = buckets.Locate("cpg-fewgenomes-test");

        Assert.Equal(Path.Combine(home.BucketsDirectory, "cpg-fewgenomes-test"), path);
        Assert.True(Path.IsPathFullyQualified(path));
        Assert.False(Directory.Exists(path));
        Assert.Equal(path, BucketLayout.Create("fewgenomes", AccessLevel.Test, buckets.Locate).Default);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("Upper")]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("cpg..x")]
    public void LocalBuckets_refuses_names_that_are_not_bucket_names(string name)
    {
        using var folder = new TempFolder();
        var ex = Assert.Throws<StorageException>(() => new LocalBuckets(new RunnerHome(folder.Path)).Locate(name));
        Assert.Equal("InvalidBucketName", ex.ErrorId);
        Assert.Equal(name, ex.Target);
    }
}
