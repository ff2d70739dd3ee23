using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// The composition root: the one place that chooses backends from the settings. Everything above
/// (runs, cmdlets, the executor) talks to the interfaces it hands out.
/// </summary>
public sealed class Deployment
{
    private Deployment(RunnerHome home, RunnerSettings settings)
    {
        Home = home;
        Settings = settings;
        Database = new RunnerDatabase(home);
        Batches = new SqliteBatchStore(Database);
        AuditLog = new SqliteAuditLog(Database);
        Executor = new ExecutorClient(home);
        Configs = new ConfigStore(home.ConfigStoreDirectory);
        Git = new RemoteMirror(home);
        Buckets = new LocalBuckets(home);
    }

    public RunnerHome Home { get; }
    public RunnerSettings Settings { get; }
    public RunnerDatabase Database { get; }
    public IBatchStore Batches { get; }
    public IAuditLog AuditLog { get; }
    public IExecutorClient Executor { get; }
    public ConfigStore Configs { get; }
    public RemoteMirror Git { get; }
    public LocalBuckets Buckets { get; }

    /// <summary>Read fresh on every use: admins edit it while sessions are open.</summary>
    public DatasetRegistry LoadRegistry() => DatasetRegistry.Load(Home.RegistryPath);

    public BucketLayout BucketsFor(string dataset, AccessLevel level) => BucketLayout.Create(dataset, level, Buckets.Locate);

    /// <summary>What the local executor can ever give one job, so a batch asking for more is refused at submit.</summary>
    public ExecutorCapacity Capacity
    {
        get => ExecutorCapacity.Detect(Settings);
    }

    public IEnumerable<string> TemplatePaths =>
        Directory.Exists(Home.TemplatesDirectory)
            ? Directory.EnumerateFiles(Home.TemplatesDirectory, "*.toml").Order(StringComparer.Ordinal)
            : [];

    public static Deployment Open(RunnerHome home)
    {
        HomeInitializer.EnsureInitialized(home);
        var settings = RunnerSettings.Load(home);
        if (settings.StorageBackend != "local")
            throw new AnalysisRunnerException("StorageBackendNotSupported", ErrorKind.InvalidArgument, settings.StorageBackend,
                $"Storage backend '{settings.StorageBackend}' in {home.SettingsPath} is not available in this build; use backend = \"local\".");
        return new Deployment(home, settings);
    }
}
