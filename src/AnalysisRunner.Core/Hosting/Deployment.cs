using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Batch.Watching;
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
        Runner = settings.ExecutorRunner switch
        {
            LocalRunnerBackend.SettingsName => new LocalRunnerBackend(home, settings, Batches),
            _ => throw new AnalysisRunnerException("RunnerNotSupported", ErrorKind.InvalidArgument, settings.ExecutorRunner,
                $"[executor] runner = '{settings.ExecutorRunner}' in {home.SettingsPath} is not one of: {LocalRunnerBackend.SettingsName}."),
        };
        Watcher = new BatchWatcher(home, Batches);
        SandboxMode.Check(settings.ExecutorSandbox, home.SettingsPath);
        Git = new RemoteMirror(home);
        Buckets = new LocalBuckets(home);
        if (IsGcs)
        {
            Objects = new GcsStore(GcsOptions(settings.Storage.RunnerCredentials));
            Configs = new ConfigStore(Objects, StorageUri.Gs(settings.Storage.ConfigBucket, ""));
        }
        else
        {
            Objects = new LocalFolderStore(home.BucketsDirectory);
            Configs = new ConfigStore(Objects, StorageUri.Parse(home.ConfigStoreDirectory + "/"));
        }
    }

    public RunnerHome Home { get; }
    public RunnerSettings Settings { get; }
    public RunnerDatabase Database { get; }
    public IBatchStore Batches { get; }
    public IAuditLog AuditLog { get; }
    public IExecutorClient Executor { get; }

    /// <summary>Where jobs run: its capacity (what submit checks against) and its logs. The executor drives it.</summary>
    public IJobRunnerBackend Runner { get; }

    /// <summary>Waiting for batches: on the executor's signals, for cmdlets and (later) the server alike.</summary>
    public IBatchWatcher Watcher { get; }
    public ConfigStore Configs { get; }
    public RemoteMirror Git { get; }
    public LocalBuckets Buckets { get; }

    /// <summary>The runner's own, unscoped object store (config store, the executor's staging). Runs get <see cref="ScopedStore"/>.</summary>
    public IObjectStore Objects { get; }

    public bool IsGcs => Settings.StorageBackend == "gcs";

    /// <summary>A run config by the path a run records: a local file, or a gs:// object of the config store.</summary>
    public Tomlyn.Model.TomlTable ReadConfig(string pathOrUri) =>
        pathOrUri.Contains("://", StringComparison.Ordinal) ? Configs.Read(pathOrUri) : Config.TomlFiles.Read(pathOrUri);

    /// <summary>Read fresh on every use: admins edit it while sessions are open.</summary>
    public DatasetRegistry LoadRegistry() => DatasetRegistry.Load(Home.RegistryPath);

    /// <summary>The run config's bucket locations: gs://bucket on GCS, the bucket's folder on the local backend.</summary>
    public BucketLayout BucketsFor(string dataset, AccessLevel level) =>
        BucketLayout.Create(dataset, level, IsGcs ? name => StorageUri.Gs(name, "").ToString().TrimEnd('/') : Buckets.Locate);

    /// <summary>
    /// The object store one dataset at one access level may use: its buckets only, and on GCS with
    /// only that scope's service-account key (settings.toml [storage.dataset_credentials]).
    /// </summary>
    public ScopedObjectStore ScopedStore(string dataset, AccessLevel level)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataset);
        if (!IsGcs) return new ScopedObjectStore(Objects, dataset, level);
        var keyFile = Settings.Storage.CredentialsFor(dataset, level);
        if (keyFile is null && !Settings.Storage.Unauthenticated)
            throw new StorageException("NoStorageCredential", ErrorKind.PermissionDenied, $"{dataset}/{level.ToConfigName()}",
                $"{Home.SettingsPath} names no service-account key for {dataset} at {level.ToConfigName()}; add " +
                $"{level.ToConfigName()} = \"<key file>\" under [storage.dataset_credentials.{dataset}].");
        return new ScopedObjectStore(new GcsStore(GcsOptions(keyFile)), dataset, level);
    }

    /// <summary>
    /// Parses a user's storage path. On the local backend a path inside the buckets folder (as the
    /// run config's [storage.*] sections hold them) becomes its gs:// URI, so scope rules apply to it.
    /// </summary>
    public StorageUri ParseLocation(string text)
    {
        var uri = StorageUri.Parse(text);
        return !IsGcs && uri.Scheme == StorageScheme.File && ((LocalFolderStore)Objects).ToBucketUri(uri.LocalPath!) is { } inBucket
            ? inBucket
            : uri;
    }

    private GcsStoreOptions GcsOptions(string? credentialsPath) => new()
    {
        Endpoint = Settings.Storage.Endpoint,
        Unauthenticated = Settings.Storage.Unauthenticated,
        Project = Settings.Storage.Project,
        CredentialsPath = credentialsPath,
    };

    public IEnumerable<string> TemplatePaths =>
        Directory.Exists(Home.TemplatesDirectory)
            ? Directory.EnumerateFiles(Home.TemplatesDirectory, "*.toml").Order(StringComparer.Ordinal)
            : [];

    public static Deployment Open(RunnerHome home)
    {
        HomeInitializer.EnsureInitialized(home);
        var settings = RunnerSettings.Load(home);
        if (settings.StorageBackend is not ("local" or "gcs"))
            throw new AnalysisRunnerException("StorageBackendNotSupported", ErrorKind.InvalidArgument, settings.StorageBackend,
                $"Storage backend '{settings.StorageBackend}' in {home.SettingsPath} is not one of: local, gcs.");
        return new Deployment(home, settings);
    }
}
