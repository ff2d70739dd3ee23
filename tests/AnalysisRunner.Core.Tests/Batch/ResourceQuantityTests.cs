using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Tests.Batch;

public class ResourceQuantityTests
{
    [Theory]
    [InlineData("4Gi", 4L << 30)]
    [InlineData("4G", 4_000_000_000L)]
    [InlineData("500Mi", 500L << 20)]
    [InlineData("1.5Gi", 3L << 29)]
    [InlineData("1024", 1024L)]
    [InlineData(" 2gib ", 2L << 30)]
    [InlineData("1Ti", 1L << 40)]
    [InlineData("100K", 100_000L)]
    [InlineData("lowmem", 1L << 30)]
    [InlineData("standard", 4L << 30)]
    [InlineData("highmem", 8L << 30)]
    public void ParseMemory_reads_hail_style_sizes(string value, long expected) =>
        Assert.Equal(expected, ResourceQuantity.ParseMemory(value));

    [Fact]
    public void Memory_worker_names_scale_with_cpu()
    {
        Assert.Equal(16L << 30, ResourceQuantity.ParseMemory("standard", cpu: 4));
        Assert.Equal(1L << 29, ResourceQuantity.ParseMemory("lowmem", cpu: 0.5));
    }

    [Theory]
    [InlineData("10XB")]
    [InlineData("-1G")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("0")]
    [InlineData("1.5.2Gi")]
    [InlineData("G")]
    [InlineData("99999999999Pi")]
    public void ParseMemory_refuses_bad_values_showing_examples(string value)
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => ResourceQuantity.ParseMemory(value));
        Assert.Equal("InvalidMemory", error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Equal(value, error.Target);
        Assert.Contains("4Gi", error.Message);
    }

    [Theory]
    [InlineData("10Gi", 10L << 30)]
    [InlineData("20G", 20_000_000_000L)]
    public void ParseStorage_reads_sizes(string value, long expected) =>
        Assert.Equal(expected, ResourceQuantity.ParseStorage(value));

    [Theory]
    [InlineData("standard")]
    [InlineData("10XB")]
    [InlineData("-5Gi")]
    public void ParseStorage_refuses_what_is_not_a_size(string value)
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => ResourceQuantity.ParseStorage(value));
        Assert.Equal("InvalidStorage", error.ErrorId);
        Assert.Equal(value, error.Target);
        Assert.Contains("10Gi", error.Message);
    }

    [Theory]
    [InlineData("0.25", 0.25)]
    [InlineData("1", 1.0)]
    [InlineData("2", 2.0)]
    [InlineData("16", 16.0)]
    [InlineData("64", 64.0)]
    [InlineData("250m", 0.25)]
    public void ParseCpu_reads_cores(string value, double expected) =>
        Assert.Equal(expected, ResourceQuantity.ParseCpu(value));

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("65")]
    [InlineData("")]
    [InlineData("two")]
    [InlineData("NaN")]
    public void ParseCpu_refuses_what_is_not_a_core_count(string value)
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => ResourceQuantity.ParseCpu(value));
        Assert.Equal("InvalidCpu", error.ErrorId);
        Assert.Equal(value, error.Target);
        Assert.Contains("0.25", error.Message);
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1000L, "1000")]
    [InlineData(1536L, "1.5Ki")]
    [InlineData(500L << 20, "500Mi")]
    [InlineData(3L << 29, "1.5Gi")]
    [InlineData(4L << 30, "4Gi")]
    public void FormatBytes_uses_the_largest_binary_unit(long bytes, string expected) =>
        Assert.Equal(expected, ResourceQuantity.FormatBytes(bytes));

    [Theory]
    [InlineData("4Gi")]
    [InlineData("500Mi")]
    [InlineData("1.5Gi")]
    public void FormatBytes_reads_back_as_the_same_size(string value) =>
        Assert.Equal(ResourceQuantity.ParseMemory(value), ResourceQuantity.ParseMemory(ResourceQuantity.FormatBytes(ResourceQuantity.ParseMemory(value))));
}
