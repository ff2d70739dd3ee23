using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Tests.Runs;

/// <summary>Storage inside a run's job: the capability's scope, which -Dataset/-AccessLevel may only narrow.</summary>
public sealed class StorageScopeTests : IDisposable
{
    private readonly AuthorityWorld _world = new();

    public void Dispose() => _world.Dispose();

    private RunRecord Run(AccessLevel level) =>
        _world.Authority.SubmitAsync(_world.Facts(level) with { Cpu = "0.1" }, _world.Caller).GetAwaiter().GetResult();

    private StorageException Refused(Func<ScopedObjectStore> get, string errorId)
    {
        var ex = Assert.Throws<StorageException>(() => get());
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }

    [Fact]
    public void Inside_a_test_run_the_scope_cannot_be_widened_or_moved()
    {
        var access = new StorageAccess(_world.Deployment);
        var run = Run(AccessLevel.Test);
        var main = StorageUri.Parse("gs://cpg-fewgenomes-main/x");

        Assert.Equal(AccessLevel.Test, access.For(main, null, null, AuthorityWorld.Alice, run).AccessLevel);
        Assert.False(access.For(main, null, null, AuthorityWorld.Alice, run).IsAllowed(main));
        Refused(() => access.For(main, "fewgenomes", AccessLevel.Standard, AuthorityWorld.Alice, run), "AccessLevelMismatch");
        Refused(() => access.For(main, null, AccessLevel.Full, AuthorityWorld.Alice, run), "AccessLevelMismatch");
        Refused(() => access.For(null, "othergenomes", AccessLevel.Test, AuthorityWorld.Alice, run), "ScopeOutsideRun");
    }

    [Fact]
    public void Inside_a_full_run_standard_narrows_it_and_test_does_not_move_it()
    {
        var access = new StorageAccess(_world.Deployment);
        var run = Run(AccessLevel.Full);

        Assert.Equal(AccessLevel.Full, access.For(null, null, null, AuthorityWorld.Alice, run).AccessLevel);
        Assert.Equal(AccessLevel.Standard, access.For(null, "fewgenomes", AccessLevel.Standard, AuthorityWorld.Alice, run).AccessLevel);
        Refused(() => access.For(null, null, AccessLevel.Test, AuthorityWorld.Alice, run), "AccessLevelMismatch");
    }

    [Fact]
    public void Outside_a_run_the_callers_membership_decides_and_emails_ignore_case()
    {
        var access = new StorageAccess(_world.Deployment);

        Assert.Equal(AccessLevel.Test, access.For(StorageUri.Parse("gs://cpg-fewgenomes-test/x"), null, null, "ALICE@example.ORG", null).AccessLevel);
        Assert.Equal("NotAMember", Assert.Throws<PolicyViolationException>(() =>
            access.For(StorageUri.Parse("gs://cpg-fewgenomes-main/x"), null, null, "mallory@example.org", null)).ErrorId);
        Refused(() => access.For(StorageUri.Parse("gs://unknown-bucket/x"), null, null, AuthorityWorld.Alice, null), "NoStorageScope");
    }

    [Fact]
    public void On_gcs_a_jobs_scope_comes_from_its_run_and_no_config_is_read()
    {
        // Issue 18: inside a job on GCS the scope used to be read from CPG_CONFIG_PATH as a local file.
        File.WriteAllText(Path.Combine(_world.HomePath, "settings.toml"), "[storage]\nbackend = \"gcs\"\nendpoint = \"http://127.0.0.1:9/storage/v1/\"\nunauthenticated = true\n");
        var gcs = Hosting.Deployment.Open(_world.Home);
        var run = Run(AccessLevel.Test) with { ConfigPath = "gs://cpg-config/not-readable-here.toml" };

        var store = new StorageAccess(gcs).For(StorageUri.Parse("gs://cpg-fewgenomes-test/x"), null, null, AuthorityWorld.Alice, run);

        Assert.IsType<GcsStore>(GetInner(store));
        Assert.Equal(("fewgenomes", AccessLevel.Test), (store.Dataset, store.AccessLevel));
    }

    private static object GetInner(ScopedObjectStore store) =>
        typeof(ScopedObjectStore).GetField("_inner", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(store)!;
}
