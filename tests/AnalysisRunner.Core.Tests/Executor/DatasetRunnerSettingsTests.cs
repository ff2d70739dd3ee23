using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>[executor.datasets.&lt;name&gt;] runner: a dataset's jobs on another runner than the default, checked key by key.</summary>
public sealed class DatasetRunnerSettingsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Deployment Open(string settings)
    {
        File.WriteAllText(_folder.Combine("settings.toml"), settings);
        return Deployment.Open(new RunnerHome(_folder.Path));
    }

    [Fact]
    public void A_dataset_named_in_the_settings_goes_to_its_runner_and_every_other_to_the_default()
    {
        var deployment = Open("[executor]\nrunner = \"local\"\n\n[executor.datasets.fewgenomes]\nrunner = \"slurm\"\n");

        Assert.Equal("slurm", deployment.Runner.For("fewgenomes").Name);
        Assert.Equal("local", deployment.Runner.For("othergenomes").Name);
        Assert.Equal("local", deployment.Runner.For(null).Name);
        Assert.Equal("slurm", deployment.Settings.DatasetRunners["fewgenomes"]);
    }

    [Fact]
    public void A_dataset_sent_to_the_default_runner_needs_no_second_runner()
    {
        var deployment = Open("[executor]\nrunner = \"local\"\n\n[executor.datasets.fewgenomes]\nrunner = \"local\"\n");

        Assert.Same(deployment.Runner, deployment.Runner.For("fewgenomes"));
    }

    [Theory]
    [InlineData("[executor.datasets]\nfewgenomes = \"slurm\"\n", "executor.datasets.fewgenomes")]
    [InlineData("[executor.datasets.fewgenomes]\nrunnr = \"slurm\"\n", "executor.datasets.fewgenomes.runnr")]
    [InlineData("[executor.datasets.fewgenomes]\n", "executor.datasets.fewgenomes.runner")]
    [InlineData("[executor.datasets.fewgenomes]\nrunner = 3\n", "executor.datasets.fewgenomes.runner")]
    [InlineData("[executor.datasets.fewgenomes]\nrunner = \"pbs\"\n", "executor.datasets.fewgenomes.runner")]
    [InlineData("[executor]\ndatasets = \"slurm\"\n", "executor.datasets")]
    public void A_wrong_dataset_runner_is_InvalidDatasetRunner_naming_the_key(string settings, string key)
    {
        var error = Assert.ThrowsAny<AnalysisRunnerException>(() => Open(settings));

        Assert.Equal("InvalidDatasetRunner", error.ErrorId);
        Assert.Equal(key, error.Target);
        Assert.Contains($"'{key}'", error.Message);
        Assert.Contains("slurm", error.Message);
    }
}
