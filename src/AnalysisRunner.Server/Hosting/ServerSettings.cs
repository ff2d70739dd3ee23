using AnalysisRunner.Core;

namespace AnalysisRunner.Server.Hosting;

/// <summary>
/// The server's own settings: from the TOML file named by --settings or AR_SERVER_SETTINGS, then
/// environment variables AR_SERVER__&lt;section&gt;__&lt;key&gt; (e.g. AR_SERVER__database__connection_string),
/// then --section:key=value arguments; later sources win. See server.example.toml for every key.
/// </summary>
public sealed record ServerSettings
{
    public const string SettingsFileVariable = "AR_SERVER_SETTINGS";
    public const string EnvironmentPrefix = "AR_SERVER__";
    public const string DefaultUrls = "http://127.0.0.1:5080";
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    private static readonly string[] ServerKeys = ["urls", "max_request_body_bytes"];
    private static readonly string[] DatabaseKeys = ["connection_string", "allow_without_password"];
    private static readonly string[] RunnerKeys = ["home", "runs", "module"];
    private static readonly string[] UsageKeys = ["max_days"];

    /// <summary>Where Kestrel listens; 127.0.0.1 unless the admin says otherwise. https URLs use [Kestrel.Certificates.Default].</summary>
    public string Urls { get; init; } = DefaultUrls;

    public long MaxRequestBodyBytes { get; init; } = DefaultMaxRequestBodyBytes;

    public string? ConnectionString { get; init; }

    /// <summary>
    /// [database] allow_without_password: the admin's word that no job can reach the database, so the
    /// server starts (with a warning) although PostgreSQL asks it for no password (PasswordDemand).
    /// </summary>
    public bool AllowDatabaseWithoutPassword { get; init; }

    /// <summary>The runner home whose runs, batches, logs, configs and buckets the pages read ([runner] home); none means no pages.</summary>
    public string? RunnerHome { get; init; }

    /// <summary>
    /// The built module whose executor runs the home's batches ([runner] module, e.g. artifacts/module/AnalysisRunner):
    /// drivers import that module. None: the executor beside the server, whose jobs have no module.
    /// </summary>
    public string? Module { get; init; }

    /// <summary>
    /// Where runs (audit log, configs) are kept ([runner] runs): "database", PostgreSQL, the store of
    /// record (the default); or "home", the runner home's own log, for a server that shows the pages
    /// of a home its users submit to in-process (the embedded mode with a shared web).
    /// </summary>
    public bool RunsInDatabase { get; init; } = true;

    /// <summary>
    /// [usage] max_days: how many days back Get-AnalysisUsage, the usage API and the usage page may
    /// count (UsageWindow.DefaultMaxDays unless set); an earlier or a future first day is refused.
    /// </summary>
    public Core.Usage.UsageWindow UsageWindow { get; init; } = Core.Usage.UsageWindow.Default;

    /// <summary>Where the settings came from, for messages.</summary>
    public string? SettingsFile { get; init; }

    public static ServerSettings From(IConfiguration configuration, string? settingsFile)
    {
        var source = settingsFile ?? "the server settings";
        CheckKeys(configuration.GetSection("server"), ServerKeys, "server", source);
        CheckKeys(configuration.GetSection("database"), DatabaseKeys, "database", source);
        CheckKeys(configuration.GetSection("runner"), RunnerKeys, "runner", source);
        CheckKeys(configuration.GetSection("usage"), UsageKeys, "usage", source);
        var settings = new ServerSettings { SettingsFile = settingsFile };
        if (configuration["server:urls"] is { Length: > 0 } urls) settings = settings with { Urls = urls };
        if (configuration["server:max_request_body_bytes"] is { Length: > 0 } limit)
            settings = settings with
            {
                MaxRequestBodyBytes = long.TryParse(limit, out var bytes) && bytes > 0
                    ? bytes
                    : throw Invalid(source, $"server.max_request_body_bytes must be a positive number of bytes, not '{limit}'"),
            };
        if (configuration["usage:max_days"] is { Length: > 0 } maxDays)
            settings = settings with
            {
                UsageWindow = int.TryParse(maxDays, out var days) && days > 0
                    ? new Core.Usage.UsageWindow(days)
                    : throw Invalid(source, $"usage.max_days must be a positive number of days, not '{maxDays}'"),
            };
        return settings with
        {
            ConnectionString = configuration["database:connection_string"],
            AllowDatabaseWithoutPassword = configuration["database:allow_without_password"] switch
            {
                null or "" or "false" or "False" => false,
                "true" or "True" => true,
                var other => throw Invalid(source, $"database.allow_without_password must be true or false, not '{other}'"),
            },
            RunnerHome = configuration["runner:home"] is { Length: > 0 } home ? Path.GetFullPath(home) : null,
            Module = configuration["runner:module"] is { Length: > 0 } module ? Path.GetFullPath(module) : null,
            RunsInDatabase = configuration["runner:runs"] switch
            {
                null or "" or "database" => true,
                "home" => false,
                var other => throw Invalid(source, $"runner.runs must be \"database\" (PostgreSQL, the default) or \"home\" (the runner home's own log), not '{other}'"),
            },
        };
    }

    /// <summary>The settings file: --settings PATH (or --settings=PATH), else AR_SERVER_SETTINGS, else none.</summary>
    public static string? FindSettingsFile(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--settings" && i + 1 < args.Count) return Path.GetFullPath(args[i + 1]);
            if (args[i].StartsWith("--settings=", StringComparison.Ordinal)) return Path.GetFullPath(args[i]["--settings=".Length..]);
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(SettingsFileVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment) ? null : Path.GetFullPath(fromEnvironment);
    }

    /// <summary>The configuration sources in order: file, environment, command line.</summary>
    public static void AddSources(IConfigurationBuilder configuration, string? settingsFile, string[] args)
    {
        if (settingsFile is not null)
        {
            if (!File.Exists(settingsFile))
                throw new AnalysisRunnerException("ServerSettingsNotFound", ErrorKind.ObjectNotFound, settingsFile,
                    $"The server settings file '{settingsFile}' does not exist; start from src/AnalysisRunner.Server/server.example.toml.");
            configuration.Add(new TomlConfigurationSource(settingsFile));
        }
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddCommandLine(args.Where((arg, i) => !IsSettingsArgument(args, i)).ToArray());
    }

    private static bool IsSettingsArgument(string[] args, int i) =>
        args[i] == "--settings" || args[i].StartsWith("--settings=", StringComparison.Ordinal) || (i > 0 && args[i - 1] == "--settings");

    /// <summary>A misspelt key would silently fall back to a default (a public bind, no limit): refuse it.</summary>
    private static void CheckKeys(IConfigurationSection section, string[] allowed, string name, string source)
    {
        foreach (var child in section.GetChildren())
            if (!allowed.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                throw Invalid(source, $"unknown key '{name}.{child.Key}'; the keys allowed there are {string.Join(", ", allowed)}");
    }

    private static AnalysisRunnerException Invalid(string source, string what) =>
        new("InvalidServerSettings", ErrorKind.InvalidData, source, $"{source} is invalid: {what}.");
}
