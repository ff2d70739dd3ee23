using AnalysisRunner.Core.Config;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// Deployment settings from settings.toml in the runner home: which backends, and the executor's limits.
/// Missing keys take the embedded defaults, so an empty or absent file is a working deployment.
/// </summary>
public sealed record RunnerSettings
{
    public StorageSettings Storage { get; init; } = new();

    /// <summary>"local" (a bucket is a folder under the home) or "gcs"; see docs/architecture.md, "Storage".</summary>
    public string StorageBackend => Storage.Backend;

    /// <summary>CPU the local executor hands out; defaults to the machine's cores.</summary>
    public double? ExecutorCpus { get; init; }

    /// <summary>Memory the local executor hands out ([executor] memory = "8Gi" or a byte count); defaults to the machine's.</summary>
    public long? ExecutorMemoryBytes { get; init; }

    /// <summary>Where jobs run ([executor] runner): "local" (processes on this machine, the default) or "slurm".</summary>
    public string ExecutorRunner { get; init; } = "local";

    /// <summary>
    /// [executor.datasets.&lt;dataset&gt;] runner: where that dataset's jobs run instead of ExecutorRunner
    /// (dataset → runner name). The dataset is the verified run's, never what a batch claims.
    /// </summary>
    public IReadOnlyDictionary<string, string> DatasetRunners { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// [executor] sandbox: "auto" (the default: a bubblewrap sandbox per batch where bwrap is installed,
    /// else unsandboxed with a warning), "bubblewrap" (required: without bwrap jobs fail to start with
    /// SandboxNotAvailable) or "none". See Batch/Runners/Local/Sandbox and docs/architecture.md.
    /// </summary>
    public string ExecutorSandbox { get; init; } = Batch.Runners.Local.Sandbox.SandboxMode.Auto;

    /// <summary>[executor] allow_unsandboxed: whether jobs may run unsandboxed when bwrap is missing; true under "auto", false under "bubblewrap" unless set.</summary>
    public bool? AllowUnsandboxed { get; init; }

    /// <summary>[executor] sandbox_network: whether sandboxed jobs share the host's network; by default only on the gcs backend (jobs reach the bucket API).</summary>
    public bool? SandboxNetwork { get; init; }

    /// <summary>[slurm]: the partition, who pays, how often squeue is asked (used when [executor] runner = "slurm").</summary>
    public Batch.Runners.Slurm.SlurmSettings Slurm { get; init; } = new();

    /// <summary>
    /// [identity.users]: operating-system account → the email the registry lists. On the embedded
    /// default this is who a caller is (Identity.OfOsAccount), whatever folder they stand in.
    /// </summary>
    public IReadOnlyDictionary<string, string> IdentityUsers { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>[git] credentials: a git-credential-store file the runner's fetches authenticate from (GitCredentials).</summary>
    public string? GitCredentialsFile { get; init; }

    /// <summary>[web] url: where this home's web pages are served (checked by WebAddress.Parse); null when none is, and runs, batches and jobs carry no Url.</summary>
    public Core.Web.WebAddress? Web { get; init; }

    /// <summary>
    /// [batches] database: an Npgsql connection string naming the PostgreSQL database that holds this
    /// home's batches, jobs and attempts (PostgresBatchStore, and the executor's PostgresJobLedger);
    /// null (the default) keeps them in the home's runner.db. A server over this home uses the same.
    /// </summary>
    public string? BatchDatabase { get; init; }

    public static RunnerSettings Load(RunnerHome home)
    {
        if (!File.Exists(home.SettingsPath)) return new RunnerSettings();
        var table = TomlFiles.Read(home.SettingsPath);
        var settings = new RunnerSettings();
        if (table.TryGetValue("storage", out var storage) && storage is TomlTable storageTable)
            settings = settings with { Storage = StorageSettings.Read(storageTable, home.SettingsPath) };
        if (table.TryGetValue("executor", out var executor))
        {
            if (executor is not TomlTable executorTable) throw StorageSettings.Invalid(home.SettingsPath, "'executor' must be a table");
            if (executorTable.TryGetValue("cpus", out var cpus))
                settings = settings with
                {
                    ExecutorCpus = cpus is long or double
                        ? Convert.ToDouble(cpus, System.Globalization.CultureInfo.InvariantCulture)
                        : throw StorageSettings.Invalid(home.SettingsPath, $"'executor.cpus' must be a number, not {Shown(cpus)}"),
                };
            if (executorTable.TryGetValue("memory", out var memory))
                settings = settings with { ExecutorMemoryBytes = Memory(memory, home.SettingsPath) };
            if (executorTable.TryGetValue("runner", out var runner))
                settings = settings with
                {
                    ExecutorRunner = runner is string name ? name : throw StorageSettings.Invalid(home.SettingsPath, $"'executor.runner' must be a name such as \"local\", not {Shown(runner)}"),
                };
            if (executorTable.TryGetValue("datasets", out var datasets))
                settings = settings with { DatasetRunners = ReadDatasetRunners(datasets, home.SettingsPath) };
            if (executorTable.TryGetValue("sandbox", out var sandbox))
                settings = settings with
                {
                    ExecutorSandbox = sandbox is string kind ? kind : throw StorageSettings.Invalid(home.SettingsPath, $"'executor.sandbox' must be \"auto\", \"bubblewrap\" or \"none\", not {Shown(sandbox)}"),
                };
            settings = settings with
            {
                AllowUnsandboxed = Flag(executorTable, "allow_unsandboxed", home.SettingsPath),
                SandboxNetwork = Flag(executorTable, "sandbox_network", home.SettingsPath),
            };
        }
        if (table.TryGetValue("batches", out var batches))
            settings = settings with { BatchDatabase = ReadBatches(batches, home.SettingsPath) };
        if (table.TryGetValue("identity", out var identity))
            settings = settings with { IdentityUsers = ReadIdentity(identity, home.SettingsPath) };
        if (table.TryGetValue("git", out var git))
            settings = settings with { GitCredentialsFile = ReadGit(git, home.SettingsPath) };
        if (table.TryGetValue("web", out var web))
            settings = settings with { Web = ReadWeb(web, home.SettingsPath) };
        if (table.TryGetValue("slurm", out var slurm))
            settings = settings with
            {
                Slurm = slurm is TomlTable slurmTable ? Batch.Runners.Slurm.SlurmSettings.Read(slurmTable) : throw StorageSettings.Invalid(home.SettingsPath, "'slurm' must be a table"),
            };
        return settings;
    }

    /// <summary>[batches]: one key, database = "&lt;connection string&gt;"; anything else is refused, so a typo never falls back to runner.db.</summary>
    private static string ReadBatches(object value, string source)
    {
        if (value is not TomlTable table)
            throw StorageSettings.Invalid(source, "'batches' must be a table with database = \"<PostgreSQL connection string>\"");
        foreach (var unknown in table.Keys.Where(name => name != "database"))
            throw StorageSettings.Invalid(source, $"'batches.{unknown}' is not a setting; [batches] holds database = \"<PostgreSQL connection string>\"");
        return table.TryGetValue("database", out var database) && database is string { Length: > 0 } text ? text
            : throw StorageSettings.Invalid(source, "'batches.database' must be a PostgreSQL connection string such as \"Host=127.0.0.1;Database=runner;Username=runner\"");
    }

    /// <summary>[executor.datasets.&lt;name&gt;] tables of one key, runner = "name"; anything else is refused naming the key.</summary>
    private static Dictionary<string, string> ReadDatasetRunners(object value, string source)
    {
        if (value is not TomlTable table)
            throw DatasetRunnerInvalid("executor.datasets", source, "must be tables: [executor.datasets.<dataset>] with runner = \"local\" or \"slurm\"");
        var runners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (dataset, entry) in table)
        {
            var key = $"executor.datasets.{dataset}";
            if (entry is not TomlTable datasetTable)
                throw DatasetRunnerInvalid(key, source, "must be a table with runner = \"local\" or \"slurm\"");
            foreach (var unknown in datasetTable.Keys.Where(name => name != "runner"))
                throw DatasetRunnerInvalid($"{key}.{unknown}", source, "is not a setting; a dataset's table holds runner = \"local\" or \"slurm\"");
            if (!datasetTable.TryGetValue("runner", out var runner))
                throw DatasetRunnerInvalid($"{key}.runner", source, "is missing: say where the dataset's jobs run, runner = \"local\" or \"slurm\"");
            runners[dataset] = runner as string is { Length: > 0 } name ? name
                : throw DatasetRunnerInvalid($"{key}.runner", source, $"must be a runner name such as \"slurm\", not {Shown(runner)}");
        }
        return runners;
    }

    internal static ConfigException DatasetRunnerInvalid(string key, string source, string what) =>
        new("InvalidDatasetRunner", ErrorKind.InvalidArgument, key, $"The settings file '{source}' is invalid: '{key}' {what}.");

    private static bool? Flag(TomlTable table, string key, string source) =>
        !table.TryGetValue(key, out var value) ? null
        : value as bool? ?? throw StorageSettings.Invalid(source, $"'executor.{key}' must be true or false");

    private static Dictionary<string, string> ReadIdentity(object value, string source)
    {
        // Strict: a misspelt key would silently leave every caller as their bare account name.
        if (value is not TomlTable table || table.Keys.Any(key => key != "users"))
            throw StorageSettings.Invalid(source, "[identity] holds one table, [identity.users], of account = \"email\"");
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!table.TryGetValue("users", out var usersValue)) return users;
        if (usersValue is not TomlTable map) throw StorageSettings.Invalid(source, "'identity.users' must be a table of account = \"email\"");
        foreach (var (account, email) in map)
        {
            if (email is not string text || string.IsNullOrWhiteSpace(text))
                throw StorageSettings.Invalid(source, $"'identity.users.{account}' must be a non-empty email");
            users[account] = text.Trim();
        }
        return users;
    }

    private static string? ReadGit(object value, string source)
    {
        if (value is not TomlTable table || table.Keys.Any(key => key != "credentials"))
            throw StorageSettings.Invalid(source, "[git] holds one key, credentials = \"<git-credential-store file>\"");
        if (!table.TryGetValue("credentials", out var path)) return null;
        return path is string text && text.Length > 0 ? text : throw StorageSettings.Invalid(source, "'git.credentials' must be a file path");
    }

    private static Core.Web.WebAddress? ReadWeb(object value, string source)
    {
        if (value is not TomlTable table || table.Keys.Any(key => key != "url"))
            throw StorageSettings.Invalid(source, "[web] holds one key, url = \"http://127.0.0.1:5080\" (where the web pages are served)");
        if (!table.TryGetValue("url", out var url)) return null;
        return url is string text ? Core.Web.WebAddress.Parse(text, $"'web.url' of {source}") : throw StorageSettings.Invalid(source, $"'web.url' must be an address such as \"http://127.0.0.1:5080\", not {Shown(url)}");
    }

    /// <summary>A TOML value as the file spells it, for messages.</summary>
    private static string Shown(object? value) => value switch
    {
        string text => $"\"{text}\"",
        bool flag => flag ? "true" : "false",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "nothing",
    };

    /// <summary>"8Gi" (ResourceQuantity's sizes) or a byte count.</summary>
    private static long Memory(object? value, string source)
    {
        try
        {
            return value switch
            {
                string text => Batch.ResourceQuantity.ParseMemory(text),
                long bytes => bytes,
                _ => throw StorageSettings.Invalid(source, $"'executor.memory' must be a size such as \"8Gi\" or a number of bytes, not {Shown(value)}"),
            };
        }
        catch (AnalysisRunnerException cause) when (cause is not ConfigException)
        {
            throw StorageSettings.Invalid(source, $"'executor.memory': {cause.Message}");
        }
    }
}

/// <summary>
/// [storage] in settings.toml. The keys of Google Cloud Storage live here, with the admin, not in
/// the registry: one service-account key file per dataset × access level, so a run (its driver and
/// jobs) gets only the one for its scope.
/// <code>
/// [storage]
/// backend = "gcs"                                   # "local" (default) or "gcs"
/// endpoint = "http://127.0.0.1:9199/storage/v1/"    # optional; Google's when absent
/// unauthenticated = true                            # only for an emulator
/// project = "my-billing-project"                    # optional
/// runner_credentials = "/etc/ar/keys/runner.json"   # the runner's own key (config bucket)
/// config_bucket = "cpg-config"                      # optional
/// [storage.dataset_credentials.fewgenomes]
/// test = "/etc/ar/keys/fewgenomes-test.json"
/// standard = "/etc/ar/keys/fewgenomes-standard.json"
/// full = "/etc/ar/keys/fewgenomes-full.json"
/// </code>
/// </summary>
public sealed record StorageSettings
{
    public const string DefaultConfigBucket = "cpg-config";
    private static readonly string[] Keys = ["backend", "endpoint", "unauthenticated", "project", "runner_credentials", "config_bucket", "dataset_credentials"];

    public string Backend { get; init; } = "local";
    public string? Endpoint { get; init; }
    public bool Unauthenticated { get; init; }
    public string? Project { get; init; }
    public string? RunnerCredentials { get; init; }
    public string ConfigBucket { get; init; } = DefaultConfigBucket;

    /// <summary>dataset → access level → service-account key file.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<AccessLevel, string>> DatasetCredentials { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<AccessLevel, string>>();

    public string? CredentialsFor(string dataset, AccessLevel level) =>
        DatasetCredentials.TryGetValue(dataset, out var levels) && levels.TryGetValue(level, out var path) ? path : null;

    internal static StorageSettings Read(TomlTable table, string source)
    {
        // Strict, like the registry: a misspelt key would silently fall back to another backend or credential.
        foreach (var key in table.Keys)
            if (!Keys.Contains(key, StringComparer.Ordinal))
                throw Invalid(source, $"unknown key 'storage.{key}'; the keys allowed there are {string.Join(", ", Keys)}");
        string? Text(string key) => table.TryGetValue(key, out var value)
            ? value as string ?? throw Invalid(source, $"'storage.{key}' must be a string")
            : null;

        var credentials = new Dictionary<string, IReadOnlyDictionary<AccessLevel, string>>(StringComparer.Ordinal);
        if (table.TryGetValue("dataset_credentials", out var perDataset))
        {
            if (perDataset is not TomlTable datasets) throw Invalid(source, "'storage.dataset_credentials' must be a table of datasets");
            foreach (var (dataset, value) in datasets)
            {
                if (value is not TomlTable levels) throw Invalid(source, $"'storage.dataset_credentials.{dataset}' must be a table: test/standard/full = key file");
                var map = new Dictionary<AccessLevel, string>();
                foreach (var (level, path) in levels)
                {
                    if (!AccessLevelNames.All.Contains(level) || path is not string keyFile || keyFile.Length == 0)
                        throw Invalid(source, $"'storage.dataset_credentials.{dataset}.{level}' must be test, standard or full = \"<key file>\"");
                    map[AccessLevelNames.Parse(level)] = keyFile;
                }
                credentials[dataset] = map;
            }
        }

        var backend = Text("backend") ?? "local";
        return new StorageSettings
        {
            Backend = backend,
            Endpoint = Text("endpoint"),
            Unauthenticated = table.TryGetValue("unauthenticated", out var unauthenticated)
                && (unauthenticated as bool? ?? throw Invalid(source, "'storage.unauthenticated' must be true or false")),
            Project = Text("project"),
            RunnerCredentials = Text("runner_credentials"),
            ConfigBucket = Text("config_bucket") ?? DefaultConfigBucket,
            DatasetCredentials = credentials,
        };
    }

    internal static ConfigException Invalid(string source, string what) =>
        new("InvalidSettings", ErrorKind.InvalidData, source, $"The settings file '{source}' is invalid: {what}.");
}
