using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// What every local job inherits from the executor (its own environment, less any job identity it was
/// started with, a user's server token and the server's database credentials), with the home's bin folder first on PATH (the pwsh shim) and the module folder on
/// PSModulePath, made once rather than per job; then each job's variables on top.
/// </summary>
internal sealed class InheritedEnvironment
{
    /// <summary>
    /// Never passed on: a job identity or run capability the executor was started with (a job gets its
    /// own run's capability from JobEnvironment, and none outside a run), and a user's way to a server
    /// (a job reaches a server with its run's capability only, never with the user's token).
    /// </summary>
    private static readonly string[] NotInherited =
        ["AR_BATCH_ID", "AR_JOB_ID", "AR_ATTEMPT", Runs.RunTokens.Variable, Runs.RunContext.ConfigPathVariable, Runs.Channel.RunChannel.Variable, "AR_TOKEN", "AR_SERVER", "OLDPWD"];
    private readonly List<KeyValuePair<string, string>> _lines;

    public InheritedEnvironment(RunnerHome home) : this(home, Environment.GetEnvironmentVariables())
    {
    }

    /// <summary>From <paramref name="executorEnvironment"/> (the executor's own, or a test's) rather than this process's.</summary>
    internal InheritedEnvironment(RunnerHome home, System.Collections.IDictionary executorEnvironment)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in executorEnvironment)
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        foreach (var name in NotInherited) environment.Remove(name);
        foreach (var name in environment.Keys.Where(IsServerCredential).ToList()) environment.Remove(name);
        var path = environment.GetValueOrDefault("PATH");
        environment["PATH"] = string.IsNullOrEmpty(path) ? home.BinDirectory : home.BinDirectory + ":" + path;
        // The module folder is <parent>/AnalysisRunner/, beside this executor, so jobs can Import-Module AnalysisRunner.
        var modules = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!;
        var modulePath = environment.GetValueOrDefault("PSModulePath");
        environment["PSModulePath"] = string.IsNullOrEmpty(modulePath) ? modules : modules + ":" + modulePath;
        _lines = environment.Select(pair => KeyValuePair.Create(pair.Key, pair.Key + "=" + pair.Value)).ToList();
    }

    /// <summary>
    /// A server starts the executor, which starts every job, and each passes its environment on: the
    /// server's settings from the environment (AR_SERVER__database__connection_string holds the
    /// database's password, AR_SERVER__Kestrel__… a certificate's) and libpq's variables (PGPASSWORD,
    /// PGPASSFILE, PGHOST…, which Npgsql reads) would reach every job, sandboxed or not, and with them the
    /// batches, jobs and audit rows the executor trusts. The executor keeps them (its own connection may
    /// take its password from PGPASSWORD); a job's own -Environment may still set a PG variable.
    /// </summary>
    internal static bool IsServerCredential(string name) =>
        name.StartsWith("AR_SERVER_", StringComparison.Ordinal)
        || (name.Length > 2 && name.StartsWith("PG", StringComparison.Ordinal) && name.Skip(2).All(char.IsAsciiLetterUpper));

    /// <summary>"NAME=value" lines: what the job does not set itself and may inherit, then the job's own.</summary>
    public List<string> For(AttemptLaunch launch)
    {
        var own = new HashSet<string>(launch.Environment.Select(pair => pair.Key), StringComparer.Ordinal);
        var lines = new List<string>(_lines.Count + launch.Environment.Count);
        foreach (var (name, line) in _lines)
            if (!own.Contains(name) && !launch.Withheld.Contains(name)) lines.Add(line);
        foreach (var (name, value) in launch.Environment) lines.Add(name + "=" + value);
        return lines;
    }
}
