using System.Security.Cryptography;
using Npgsql;

namespace AnalysisRunner.Core.Postgres;

/// <summary>
/// Whether PostgreSQL makes a client prove who it is. A job that shares the host's network (the gcs
/// backend, <c>sandbox_network = true</c>, a Slurm node) reaches the database's address, and it runs as
/// the same operating-system user as the server. Under <c>trust</c> (or <c>peer</c> on a socket it can
/// see) such a job connects as the server's role: it can mint a bearer token for any user, read every
/// run, and change or delete what is not sealed. Only authentication keeps it out, so the server
/// checks for it before it takes its first request.
/// </summary>
public static class PasswordDemand
{
    /// <summary>A role every cluster starts with, and the one a trust line for all roles would let in with the most power.</summary>
    private const string Superuser = "postgres";

    /// <summary>
    /// Connects with the connection string's hosts, as its role and as <c>postgres</c>, but with a
    /// password nobody knows, no passfile and no client certificate, to whichever host answers (a
    /// standby too): PostgreSQL letting either in means it asks that route for no proof at all. (A
    /// certificate or ticket a job cannot read would be proof; without it, certificate-only lines
    /// reject the probe.) Then the same on the database's other routes from this machine (OtherRoutesAsync).
    /// </summary>
    public static async Task<bool> AcceptsAnyPasswordAsync(string connectionString, CancellationToken cancellationToken = default) =>
        await OpenRouteAsync(connectionString, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>The first route and role that let a made-up password in (as AcceptsAnyPasswordAsync tries them), or null.</summary>
    public static async Task<string?> OpenRouteAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var configured = new NpgsqlConnectionStringBuilder(connectionString);
        var roles = new[] { configured.Username, Superuser }.Where(role => !string.IsNullOrEmpty(role)).Distinct(StringComparer.Ordinal).ToList();
        // The configured route must answer: an error there is the server's to report, not a route to pass over.
        foreach (var role in roles)
            if (await LetsInAsync(configured, role!, cancellationToken).ConfigureAwait(false)) return $"{configured.Host}:{configured.Port} as {role}";
        foreach (var (host, port) in await OtherRoutesAsync(configured, cancellationToken).ConfigureAwait(false))
        {
            var route = new NpgsqlConnectionStringBuilder(configured.ConnectionString) { Host = host, Port = port };
            foreach (var role in roles)
            {
                try
                {
                    if (await LetsInAsync(route, role!, cancellationToken).ConfigureAwait(false))
                        return (host.StartsWith('/') ? $"its socket in {host}" : $"{host}:{port}") + $" as {role}";
                }
                catch (NpgsqlException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Nothing answers there (an address family this host lacks): not a way in.
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The ways to the same server from this machine that the connection string does not take: its
    /// other loopback address and its Unix sockets, as the server reports them (listen_addresses,
    /// unix_socket_directories). A job on this machine (unsandboxed, or a Slurm node that is this host)
    /// can take any of them, and pg_hba.conf may ask nothing on one (Debian's own "local all all peer",
    /// which lets in a job running as the server's user as the role of that name). Only when the
    /// database is on this machine, and only what the server's own credentials can read.
    /// </summary>
    private static async Task<List<(string Host, int Port)>> OtherRoutesAsync(NpgsqlConnectionStringBuilder configured, CancellationToken cancellationToken)
    {
        var host = configured.Host ?? "";
        if (host.Contains(',') || !IsThisMachine(host)) return [];
        string listen, sockets;
        int port;
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(configured.ConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var settings = new NpgsqlCommand(
                "SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories'), current_setting('port')::int", connection);
            await using var reader = await settings.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (listen, sockets, port) = (reader.GetString(0), reader.GetString(1), reader.GetInt32(2));
        }
        catch (Exception error) when (error is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            return []; // the server's own connection will say what is wrong
        }
        var listened = Split(listen);
        var routes = new[] { "127.0.0.1", "::1" }
            .Where(address => listened.Contains("*") || listened.Contains("localhost") || listened.Contains(address))
            .Select(address => (address, port))
            .Concat(Split(sockets)
                .Where(folder => folder.StartsWith('/') && File.Exists(Path.Combine(folder, $".s.PGSQL.{port}")))
                .Select(folder => (folder, port)));
        return routes.Where(route => !(SameHost(route.Item1, host) && route.port == configured.Port)).ToList();

        static string[] Split(string list) => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        static bool SameHost(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal)
            || (a == "127.0.0.1" && b.Equals("localhost", StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsThisMachine(string host) =>
        host.StartsWith('/') || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));

    private static async Task<bool> LetsInAsync(NpgsqlConnectionStringBuilder configured, string role, CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder(configured.ConnectionString)
        {
            Username = role,
            Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
            Passfile = null,
            SslCertificate = null,
            SslKey = null,
            SslPassword = null,
            Pooling = false,
            // "primary" would pass over a standby that lets anyone in and report the primary's refusal.
            TargetSessionAttributes = "any",
        };
        var builder = new NpgsqlDataSourceBuilder(probe.ConnectionString);
        // Not even the default ~/.postgresql/postgresql.crt, which Npgsql would otherwise present (it has
        // set the options up by the time it calls this).
        builder.UseSslClientAuthenticationOptionsCallback(options =>
        {
            options.ClientCertificates?.Clear();
            options.ClientCertificateContext = null;
            options.LocalCertificateSelectionCallback = null;
        });
        await using var dataSource = builder.Build();
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception error) when (IsRefusal(error))
        {
            return false;
        }
    }

    /// <summary>
    /// 28P01: wrong password; 28000: pg_hba.conf rejects this client without asking (e.g. "reject",
    /// certificate only), or no such role. With several hosts Npgsql gathers each host's error.
    /// </summary>
    private static bool IsRefusal(Exception error) => error switch
    {
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification,
        NpgsqlException { InnerException: AggregateException hosts } => hosts.InnerExceptions.All(IsRefusal),
        _ => false,
    };

    /// <summary>What a server that found its database accepting any password stops with.</summary>
    public static AnalysisRunnerException Refusal(string databaseDescription, string openRoute) =>
        new("DatabaseAcceptsAnyPassword", ErrorKind.PermissionDenied, databaseDescription,
            $"{databaseDescription} let the server in with a password it made up, by {openRoute} (trust or peer authentication), " +
            "so a job that can reach it (shared network, a Slurm node, its socket) could connect as the server and mint tokens for " +
            "any user. Require a password (scram-sha-256) for every role on every route to it in pg_hba.conf, host and local lines, and give " +
            "the server its password by AR_SERVER__database__connection_string, PGPASSWORD or a .pgpass file; or, only if no job can " +
            "reach this database at all, set [database] allow_without_password = true in the server settings.");
}
