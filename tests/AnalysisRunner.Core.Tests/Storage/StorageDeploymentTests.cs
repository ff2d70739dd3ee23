using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Tests.Storage;

public sealed class StorageDeploymentTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Deployment Open(string? settings = null)
    {
        Directory.CreateDirectory(_folder.Path);
        if (settings is not null) File.WriteAllText(_folder.Combine("settings.toml"), settings);
        return Deployment.Open(new RunnerHome(_folder.Path));
    }

    [Fact]
    public void The_local_backend_is_the_default_and_keeps_bucket_folders_in_the_run_config()
    {
        var deployment = Open();
        Assert.IsType<LocalFolderStore>(deployment.Objects);
        Assert.Equal(_folder.Combine("buckets", "cpg-fewgenomes-test-tmp"), deployment.BucketsFor("fewgenomes", AccessLevel.Test).Tmp);
        Assert.Equal(_folder.Combine("configs", "g1.toml"), deployment.Configs.PathFor("g1"));
    }

    [Fact]
    public void Bucket_folders_parse_to_their_gs_uri_so_the_scope_applies()
    {
        var deployment = Open();
        var folder = deployment.BucketsFor("fewgenomes", AccessLevel.Test).Default;
        Assert.Equal("gs://cpg-fewgenomes-test/onboarding/x.txt", deployment.ParseLocation(folder + "/onboarding/x.txt").ToString());
        Assert.Equal(StorageScheme.File, deployment.ParseLocation("/tmp/elsewhere.txt").Scheme);
    }

    [Theory]
    [InlineData("keys/run-token.key")]
    [InlineData("registry.toml")]
    [InlineData("runner.db")]
    [InlineData("configs/some-run.toml")]
    [InlineData("")]
    [InlineData("workers/x")]
    public void A_local_path_inside_the_runner_home_but_not_its_buckets_is_no_storage_path(string relative)
    {
        var deployment = Open();
        var ex = Assert.Throws<StorageException>(() => deployment.ParseLocation(Path.Combine(_folder.Path, relative)));
        Assert.Equal("PathInRunnerHome", ex.ErrorId);
        Assert.Equal(StorageScheme.File, deployment.ParseLocation(Path.GetTempPath() + "elsewhere.txt").Scheme);
        Assert.Equal(StorageScheme.File, deployment.ParseLocation(Path.Combine(_folder.Path, "work", "3", "1", "result.txt")).Scheme);
    }

    [Theory]
    [InlineData("")]
    [InlineData("buckets/cpg-other-main")]
    public void A_local_path_outside_the_home_that_links_into_it_is_judged_by_where_it_leads(string relative)
    {
        var deployment = Open();
        var target = Path.Combine(_folder.Path, relative);
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "registry.toml"), "# registry\n");
        var link = Path.Combine(Path.GetTempPath(), "ar-link-" + Guid.NewGuid().ToString("N")[..8]);
        File.CreateSymbolicLink(link, target);
        try
        {
            var ex = Assert.Throws<StorageException>(() => deployment.ParseLocation(Path.Combine(link, "registry.toml")));
            Assert.Equal("PathInRunnerHome", ex.ErrorId);
            // A file not made yet under the link (an upload's destination) leads there all the same.
            Assert.Equal("PathInRunnerHome", Assert.Throws<StorageException>(() => deployment.ParseLocation(Path.Combine(link, "new", "x.txt"))).ErrorId);
        }
        finally { File.Delete(link); }
    }

    [Fact]
    public void The_gcs_backend_puts_gs_uris_in_the_run_config_and_needs_a_key_per_scope()
    {
        var deployment = Open("""
            [storage]
            backend = "gcs"
            endpoint = "http://127.0.0.1:9/storage/v1/"
            """);
        Assert.IsType<GcsStore>(deployment.Objects);
        var layout = deployment.BucketsFor("fewgenomes", AccessLevel.Standard);
        Assert.Equal("gs://cpg-fewgenomes-main", layout.Default);
        Assert.Equal("gs://cpg-fewgenomes-main-tmp", layout.Tmp);
        Assert.Equal("gs://cpg-config/g1.toml", deployment.Configs.PathFor("g1"));

        var ex = Assert.Throws<StorageException>(() => deployment.ScopedStore("fewgenomes", AccessLevel.Test));
        Assert.Equal("NoStorageCredential", ex.ErrorId);
        Assert.Contains("[storage.dataset_credentials.fewgenomes]", ex.Message);
    }

    [Fact]
    public void Per_scope_keys_are_read_from_settings_and_unknown_keys_are_refused()
    {
        var settings = Open("""
            [storage]
            backend = "gcs"
            unauthenticated = true
            [storage.dataset_credentials.fewgenomes]
            test = "/keys/fewgenomes-test.json"
            """).Settings.Storage;
        Assert.Equal("/keys/fewgenomes-test.json", settings.CredentialsFor("fewgenomes", AccessLevel.Test));
        Assert.Null(settings.CredentialsFor("fewgenomes", AccessLevel.Full));

        File.WriteAllText(_folder.Combine("settings.toml"), "[storage]\nbackend = \"gcs\"\ncredential = \"/k.json\"\n");
        var ex = Assert.Throws<ConfigException>(() => RunnerSettings.Load(new RunnerHome(_folder.Path)));
        Assert.Equal("InvalidSettings", ex.ErrorId);
    }

    [Fact]
    public void An_unknown_backend_is_refused()
    {
        var ex = Assert.Throws<DeploymentException>(() => Open("[storage]\nbackend = \"s3\"\n"));
        Assert.Equal("StorageBackendNotSupported", ex.ErrorId);
    }
}

[Collection(GcsServerCollection.Name)]
public sealed class GcsConfigStoreTests(GcsServerFixture server)
{
    [Fact]
    public async Task Configs_on_gcs_are_written_once()
    {
        using var store = server.NewStore();
        var configs = new ConfigStore(store, StorageUri.Gs("cpg-config", $"t-{Guid.NewGuid():N}/"));
        var arGuid = Guid.NewGuid().ToString();
        var config = new TomlTable { ["workflow"] = new TomlTable { ["dataset"] = "fewgenomes" } };

        await configs.PublishAsync(arGuid, config);

        Assert.Equal("fewgenomes", ((TomlTable)(await configs.ReadAsync(configs.PathFor(arGuid)))["workflow"])["dataset"]);
        var list = new List<StorageEntry>();
        await foreach (var e in store.ListAsync(configs.Root)) list.Add(e);
        Assert.Equal([arGuid + ".toml"], list.Select(e => e.Name));
        Assert.Equal("ConfigAlreadyExists", (await Assert.ThrowsAsync<ConfigException>(() => configs.PublishAsync(arGuid, new TomlTable { ["other"] = 1L }))).ErrorId);
    }
}
