using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Batch.Runners.Slurm;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// The composition root: the one place that chooses backends from the settings. Everything above
/// (runs, cmdlets, the executor) talks to the interfaces it hands out.
/// </summary>
public sealed class Deployment
{
    private Deployment(RunnerHome home, RunnerSettings settings, IExecutorClient? executor, Runs.Channel.RunChannel? channel = null)
    {
        Home = home;
        Settings = settings;
        Channel = channel;
        Database = new RunnerDatabase(home);
        Batches = channel is not null ? new Runs.Channel.ChannelBatchStore(channel)
            : settings.BatchDatabase is { } batchDatabase ? new PostgresBatchStore(OpenBatchDatabase(batchDatabase, home), home)
            : new SqliteBatchStore(Database);
        // Made here, outside any transaction (each makes its tables); a sandboxed job cannot see the database.
        if (channel is null)
        {
            _auditLog = new SqliteAuditLog(Database);
            _tokens = new SqliteTokenStore(Database);
        }
        Executor = executor ?? (channel is null ? new ExecutorClient(home) : new Runs.Channel.ChannelExecutorClient());
        Runner = channel is not null ? new Runs.Channel.ChannelRunnerBackend(channel) : RunnerBackends(home, settings, Batches, new Runs.Channel.RunChannelHost(this));
        Watcher = channel is null ? new BatchWatcher(home, Batches) : new Runs.Channel.ChannelBatchWatcher(channel);
        SandboxMode.Check(settings.ExecutorSandbox, home.SettingsPath);
        Git = new RemoteMirror(home, GitCredentials.FromFile(settings.GitCredentialsFile));
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

    /// <summary>One data source (one pool) per connection string per process, however many times homes are opened.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Postgres.PostgresDatabase> BatchDatabases = new(StringComparer.Ordinal);

    /// <summary>
    /// Closes the pool of a batch database this process opened (its idle connections count against
    /// PostgreSQL's max_connections until then): for hosts and tests that are done with a database,
    /// never while a deployment over it is still in use.
    /// </summary>
    internal static async ValueTask CloseBatchDatabaseAsync(string connectionString)
    {
        if (!BatchDatabases.TryRemove(connectionString, out var database)) return;
        PostgresBatchStore.Forget(database);
        await database.DisposeAsync();
    }

    private static Postgres.PostgresDatabase OpenBatchDatabase(string connectionString, RunnerHome home)
    {
        try
        {
            return BatchDatabases.GetOrAdd(connectionString, text => new Postgres.PostgresDatabase(text));
        }
        catch (AnalysisRunnerException cause)
        {
            throw new DeploymentException(cause.ErrorId, ErrorKind.InvalidArgument, "batches.database",
                $"[batches] database in {home.SettingsPath}: {cause.Message}", cause);
        }
    }

    /// <summary>
    /// The executor's side of <see cref="Batches"/>: the job ledger over the same tables. Only the
    /// executor opens one (BatchScheduler), once.
    /// </summary>
    internal Batch.Execution.IJobLedger OpenJobLedger() => Batches switch
    {
        PostgresBatchStore postgres => postgres.OpenLedger(),
        _ => new Batch.Execution.SqliteJobLedger(Database),
    };

    /// <summary>The runner backend of [executor] runner, and one per dataset that [executor.datasets.&lt;name&gt;] sends elsewhere.</summary>
    private static IJobRunnerBackend RunnerBackends(RunnerHome home, RunnerSettings settings, IBatchStore batches, Runs.Channel.RunChannelHost channels)
    {
        var made = new Dictionary<string, IJobRunnerBackend>(StringComparer.Ordinal);
        IJobRunnerBackend Backend(string name, string key)
        {
            if (made.TryGetValue(name, out var existing)) return existing;
            IJobRunnerBackend backend = name switch
            {
                LocalRunnerBackend.SettingsName => new LocalRunnerBackend(home, settings, batches, channels),
                SlurmRunnerBackend.SettingsName => new SlurmRunnerBackend(home, settings.Slurm, batches, new SlurmCli()),
                _ => throw new DeploymentException(key == "executor.runner" ? "RunnerNotSupported" : "InvalidDatasetRunner", ErrorKind.InvalidArgument, key,
                    $"'{key}' = '{name}' in {home.SettingsPath} is not one of: {LocalRunnerBackend.SettingsName}, {SlurmRunnerBackend.SettingsName}."),
            };
            return made[name] = backend;
        }
        var fallback = Backend(settings.ExecutorRunner, "executor.runner");
        if (settings.DatasetRunners.Count == 0) return fallback;
        var byDataset = settings.DatasetRunners.ToDictionary(pair => pair.Key, pair => Backend(pair.Value, $"executor.datasets.{pair.Key}.runner"), StringComparer.Ordinal);
        return byDataset.Values.All(backend => ReferenceEquals(backend, fallback)) ? fallback : new DatasetRunnerBackend(fallback, byDataset, batches);
    }

    public RunnerHome Home { get; }
    public RunnerSettings Settings { get; }

    /// <summary>
    /// Inside a sandboxed job: its batch's run channel, through which the executor answers for the
    /// home the sandbox hides (batches, logs, waits, the run). Null everywhere else.
    /// </summary>
    internal Runs.Channel.RunChannel? Channel { get; }

    /// <summary>This process is a sandboxed job: the home is hidden from it and not to be written.</summary>
    public bool InSandboxedJob => Channel is not null;
    public RunnerDatabase Database { get; }
    public IBatchStore Batches { get; }
    /// <summary>The home's own SQLite audit log: what the executor checks a batch's run against (BatchScope, run tokens).</summary>
    public IAuditLog AuditLog => _auditLog ?? throw Runs.Channel.RunChannelRefusals.NotInAJob("the audit log");
    private readonly SqliteAuditLog? _auditLog;

    /// <summary>
    /// Where the executor looks up the run a batch or run token names (BatchScope, RunTokens): the
    /// database the home's batches are in. On PostgreSQL that is its audit_log, which the server writes
    /// with each run's driver batch in one transaction, and only then this home's own entries.
    /// </summary>
    public ILoggedRuns LoggedRuns => _loggedRuns ??= Batches is PostgresBatchStore postgres ? new PostgresLoggedRuns(postgres, HomeAuditLog) : HomeAuditLog;
    private ILoggedRuns? _loggedRuns;

    /// <summary>The home's audit table itself, for what copies runs of another store of record into it (HomeDriverBatches).</summary>
    internal SqliteAuditLog HomeAuditLog => _auditLog ?? throw Runs.Channel.RunChannelRefusals.NotInAJob("the audit log");

    /// <summary>
    /// The store of record for runs (submissions, audit-log reads, the chain): the home's SQLite one
    /// unless a host chose another with <see cref="UseRunLog"/> (the server's PostgreSQL store).
    /// </summary>
    public IRunLog RunLog => _runLog ??= new SqliteRunLog(this, HomeAuditLog);
    private IRunLog? _runLog;

    /// <summary>Makes <paramref name="runLog"/> this deployment's store of record for runs; a host does it once, before any run is read or written.</summary>
    public void UseRunLog(IRunLog runLog) => _runLog = runLog ?? throw new ArgumentNullException(nameof(runLog));

    /// <summary>Bearer tokens for a server run over this home; the home's owner administers them directly.</summary>
    public ITokenStore Tokens => _tokens ?? throw Runs.Channel.RunChannelRefusals.NotInAJob("the token store");
    private readonly ITokenStore? _tokens;
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
    public async Task<Tomlyn.Model.TomlTable> ReadConfigAsync(string pathOrUri)
    {
        // In a sandboxed job the executor reads its run's config (on gcs only the runner's key reads the config store).
        if (Channel is { } channel && (await channel.IdentityAsync().ConfigureAwait(false)).Run.ConfigPath == pathOrUri)
            return Config.TomlFiles.Parse(await channel.ReadConfigAsync().ConfigureAwait(false), pathOrUri);
        return pathOrUri.Contains("://", StringComparison.Ordinal)
            ? await Configs.ReadAsync(pathOrUri).ConfigureAwait(false)
            : Config.TomlFiles.Read(pathOrUri);
    }

    /// <summary>The run this process belongs to, proven by the capability the executor gave its job (AR_RUN_TOKEN); null outside any run.</summary>
    public async Task<Runs.RunRecord?> CurrentRunAsync(CancellationToken cancellationToken = default) =>
        Channel is { } channel
            ? (await channel.IdentityAsync(cancellationToken).ConfigureAwait(false)).Run
            : await RunTokens.CurrentAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Verifies run capabilities against this home's key and audit log.</summary>
    public Runs.RunTokens RunTokens => _runTokens ??= new Runs.RunTokens(Home, LoggedRuns, Batches);
    private Runs.RunTokens? _runTokens;

    /// <summary>Who calls on the embedded default: this process's OS account, mapped by settings.toml [identity.users].</summary>
    public Runs.Caller EmbeddedCaller() => new(Identity.OfOsAccount(Settings), $"os account {Environment.UserName}");

    /// <summary>Read fresh on every use: admins edit it while sessions are open. A broken one is a DeploymentException.</summary>
    public DatasetRegistry LoadRegistry()
    {
        try
        {
            return DatasetRegistry.Load(Home.RegistryPath);
        }
        catch (AnalysisRunnerException cause)
        {
            throw DeploymentException.From(cause);
        }
    }

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
    /// run config's [storage.*] sections hold them) becomes its gs:// URI, so scope rules apply to it;
    /// any other path inside the runner home is refused (PathInRunnerHome).
    /// </summary>
    public StorageUri ParseLocation(string text)
    {
        var uri = StorageUri.Parse(text);
        if (uri.Scheme != StorageScheme.File) return uri;
        if (!IsGcs && ((LocalFolderStore)Objects).ToBucketUri(uri.LocalPath!) is { } inBucket) return inBucket;
        // The home's own files (keys, registry, settings, configs, database) are never a copy's source
        // or target; jobs' work folders are, since a job uploads what it made in its folder.
        var path = Path.GetFullPath(uri.LocalPath!).TrimEnd('/');
        // Where the path leads, not only how it is written: a link outside the home to it is the home all the same.
        var real = Native.LinkFreePaths.ResolveExisting(path);
        var realHome = Native.LinkFreePaths.ResolveExisting(Home.Root);
        var realWork = Native.LinkFreePaths.ResolveExisting(Home.WorkDirectory);
        if ((IsInside(path, Home.Root) && !IsInside(path, Home.WorkDirectory))
            || ((IsInside(real, Home.Root) || IsInside(real, realHome)) && !IsInside(real, Home.WorkDirectory) && !IsInside(real, realWork)))
            throw new StorageException("PathInRunnerHome", ErrorKind.PermissionDenied, text,
                $"'{text}' is inside the runner home ({Home.Root}), whose files (keys, registry, configs, database) storage cmdlets never read or write; use its buckets through gs:// paths.");
        return uri;
    }

    private static bool IsInside(string path, string folder) =>
        path == folder.TrimEnd('/') || path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

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

    /// <summary>Opens (on first use, creates) the home; anything wrong with the home or its settings is a DeploymentException.</summary>
    public static Deployment Open(RunnerHome home) => Open(home, executor: null);

    /// <summary>
    /// As <see cref="Open(RunnerHome)"/>, with the executor handle given: tests of the authority alone
    /// record wakes instead of starting an executor process for every submission.
    /// </summary>
    internal static Deployment Open(RunnerHome home, IExecutorClient? executor)
    {
        ArgumentNullException.ThrowIfNull(home);
        // A sandboxed job sees nothing of the home but its own folders: the executor answers for the rest.
        if (Runs.Channel.RunChannel.FromEnvironment() is { } channel) return new Deployment(home, channel.JobSettings(), executor, channel);
        try
        {
            HomeInitializer.EnsureInitialized(home);
        }
        catch (AnalysisRunnerException cause)
        {
            throw DeploymentException.From(cause);
        }
        catch (Exception cause) when (cause is IOException or UnauthorizedAccessException)
        {
            throw new DeploymentException("RunnerHomeUnusable", ErrorKind.InvalidArgument, home.Root,
                $"The runner home '{home.Root}' cannot be used: {cause.Message} Give -RunnerHome (or $env:AR_HOME) a folder you may write to; it is created if missing.", cause);
        }
        RunnerSettings settings;
        try
        {
            settings = RunnerSettings.Load(home);
        }
        catch (AnalysisRunnerException cause)
        {
            throw DeploymentException.From(cause);
        }
        if (settings.StorageBackend is not ("local" or "gcs"))
            throw new DeploymentException("StorageBackendNotSupported", ErrorKind.InvalidArgument, settings.StorageBackend,
                $"Storage backend '{settings.StorageBackend}' in {home.SettingsPath} is not one of: local, gcs.");
        return new Deployment(home, settings, executor);
    }
}
