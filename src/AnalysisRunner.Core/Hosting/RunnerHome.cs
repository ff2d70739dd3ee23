namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// The one folder that holds an embedded deployment: registry, config templates, config store,
/// local buckets, database, work folders and job logs. Every path Core uses is derived here,
/// so a test (or a second deployment) only has to point at another folder.
/// </summary>
public sealed class RunnerHome
{
    public const string EnvironmentVariable = "AR_HOME";

    public RunnerHome(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
            throw new AnalysisRunnerException("InvalidRunnerHome", ErrorKind.InvalidArgument, root,
                "The runner home must be a folder path; set AR_HOME or pass -RunnerHome.");
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }
    public string RegistryPath => Path.Combine(Root, "registry.toml");
    public string SettingsPath => Path.Combine(Root, "settings.toml");
    public string TemplatesDirectory => Path.Combine(Root, "templates");
    public string ConfigStoreDirectory => Path.Combine(Root, "configs");
    public string BucketsDirectory => Path.Combine(Root, "buckets");
    public string DatabasePath => Path.Combine(Root, "runner.db");
    public string WorkDirectory => Path.Combine(Root, "work");
    public string LogsDirectory => Path.Combine(Root, "logs");
    public string BinDirectory => Path.Combine(Root, "bin");
    public string GitCacheDirectory => Path.Combine(Root, "git-cache");

    /// <summary>The runner's secrets (mode 0700): jobs never get these files, only what is derived from them.</summary>
    public string KeysDirectory => Path.Combine(Root, "keys");
    public string RunTokenKeyPath => Path.Combine(KeysDirectory, "run-token.key");
    public string ExecutorLockPath => Path.Combine(Root, "executor.lock");
    public string ExecutorSocketPath => Path.Combine(Root, "executor.sock");
    public string ExecutorLogPath => Path.Combine(Root, "executor.log");

    /// <summary>An explicit path wins, then AR_HOME, then ~/.analysis-runner.</summary>
    public static RunnerHome Resolve(string? explicitPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath)) return new RunnerHome(explicitPath);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return new RunnerHome(fromEnvironment);
        var userHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new RunnerHome(Path.Combine(userHome, ".analysis-runner"));
    }

    public override string ToString() => Root;
}
