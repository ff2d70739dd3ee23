using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests;

/// <summary>
/// What makes the whole deployment unusable (the runner home, settings.toml, registry.toml) is a
/// DeploymentException, which cmdlets report once and stop on, with the ErrorId of its cause.
/// </summary>
public sealed class DeploymentErrorsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Deployment Open(string settings)
    {
        File.WriteAllText(_folder.Combine("settings.toml"), settings);
        return Deployment.Open(new RunnerHome(_folder.Path));
    }

    [Theory]
    [InlineData("[executor]\ncpus = \"two\"\n", "executor.cpus")]
    [InlineData("[executor]\nmemory = true\n", "executor.memory")]
    [InlineData("[executor]\nmemory = \"lots\"\n", "executor.memory")]
    [InlineData("[storage]\nbackend = \"s3\"\n", "s3")]
    [InlineData("[storage]\nbogus = 1\n", "storage.bogus")]
    [InlineData("[storage\n", "settings.toml")]
    public void A_broken_settings_file_is_a_deployment_error_naming_the_file_and_the_key(string settings, string named)
    {
        var error = Assert.Throws<DeploymentException>(() => Open(settings));

        Assert.Contains(named, error.Message);
        Assert.Contains(_folder.Combine("settings.toml"), error.Message);
    }

    [Fact]
    public void A_number_in_settings_reads_whole_or_fractional()
    {
        Assert.Equal(1.5, Open("[executor]\ncpus = 1.5\n").Settings.ExecutorCpus);
        Assert.Equal(3, Open("[executor]\ncpus = 3\nmemory = 1024\n").Settings.ExecutorCpus);
    }

    [Fact]
    public void A_runner_home_that_cannot_be_created_is_RunnerHomeUnusable_naming_it()
    {
        var error = Assert.Throws<DeploymentException>(() => Deployment.Open(new RunnerHome("/proc/nope")));

        Assert.Equal("RunnerHomeUnusable", error.ErrorId);
        Assert.Equal("/proc/nope", error.Target);
        Assert.Contains("-RunnerHome", error.Message);
    }

    [Fact]
    public void A_broken_registry_is_a_deployment_error_that_keeps_its_error_id()
    {
        var deployment = Deployment.Open(new RunnerHome(_folder.Path));
        File.WriteAllText(deployment.Home.RegistryPath, "[datasets.x]\ntset = []\n");

        var error = Assert.Throws<DeploymentException>(deployment.LoadRegistry);

        Assert.Equal("InvalidRegistry", error.ErrorId);
        Assert.IsType<ConfigException>(error.InnerException);
    }
}
