using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;
using Npgsql;

namespace AnalysisRunner.Server.Hosting;

/// <summary>
/// The files whose contents let a reader act as the server: its settings file (a connection string's
/// password), PostgreSQL's passfile and client key for each route it takes (as Npgsql finds them), the
/// TLS private key Kestrel serves with, and of its runner home the run-token key, settings.toml ([batches]
/// database) and the git credentials. The start-up check (SecretExposure) refuses any a sandbox shows.
/// </summary>
internal static class ServerSecrets
{
    public static IEnumerable<SecretFile> Of(ServerSettings settings, IConfiguration configuration, RunnerHome? home)
    {
        var homeSettings = home is null ? null : RunnerSettings.Load(home);
        if (settings.SettingsFile is { } file) yield return new SecretFile(file, "The server settings file");
        var routes = new List<string>();
        if (!string.IsNullOrEmpty(settings.ConnectionString)) routes.Add(settings.ConnectionString);
        if (homeSettings?.BatchDatabase is { } batches) routes.Add(batches);
        foreach (var secret in routes.Distinct(StringComparer.Ordinal).SelectMany(PostgresFiles).Distinct()) yield return secret;
        foreach (var key in KestrelKeys(configuration.GetSection("Kestrel"))) yield return key;
        if (home is null) yield break;
        yield return new SecretFile(home.RunTokenKeyPath, "The runner home's run-token key");
        yield return new SecretFile(home.SettingsPath, "The runner home's settings.toml");
        if (homeSettings?.GitCredentialsFile is { } credentials) yield return new SecretFile(credentials, "The runner home's git credentials ([git] credentials)");
    }

    /// <summary>The passfile and client key Npgsql reads for a route: named in it, else PGPASSFILE/PGSSLKEY, else the account's defaults.</summary>
    private static IEnumerable<SecretFile> PostgresFiles(string connectionString)
    {
        NpgsqlConnectionStringBuilder route;
        try { route = new NpgsqlConnectionStringBuilder(connectionString); }
        catch (ArgumentException) { yield break; }
        var home = Environment.GetEnvironmentVariable("HOME");
        var passfile = route.Passfile ?? Environment.GetEnvironmentVariable("PGPASSFILE") ?? (home is null ? null : Path.Combine(home, ".pgpass"));
        if (!string.IsNullOrEmpty(passfile)) yield return new SecretFile(passfile, "The PostgreSQL passfile");
        var key = route.SslKey ?? Environment.GetEnvironmentVariable("PGSSLKEY") ?? (home is null ? null : Path.Combine(home, ".postgresql", "postgresql.key"));
        if (!string.IsNullOrEmpty(key)) yield return new SecretFile(key, "The PostgreSQL client key");
    }

    /// <summary>Every certificate's private key in Kestrel's settings: a KeyPath, or a Path with none beside it (a .pfx holds its key).</summary>
    private static IEnumerable<SecretFile> KestrelKeys(IConfigurationSection section)
    {
        // Kestrel reads a relative path from the content root, which ServerHost sets to the server's folder.
        if (section["KeyPath"] is { Length: > 0 } key)
            yield return new SecretFile(Path.GetFullPath(key, AppContext.BaseDirectory), $"The TLS private key ({section.Path}:KeyPath)");
        else if (section["Path"] is { Length: > 0 } pfx)
            yield return new SecretFile(Path.GetFullPath(pfx, AppContext.BaseDirectory), $"The TLS certificate with its key ({section.Path}:Path)");
        foreach (var child in section.GetChildren())
            foreach (var found in KestrelKeys(child))
                yield return found;
    }
}
