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
        // The server's role, the superuser every cluster has, and the operating-system user's own (what
        // "peer" maps a job running as the server's user to).
        var roles = new[] { configured.Username, Superuser, Environment.UserName }
            .Where(role => !string.IsNullOrEmpty(role)).Distinct(StringComparer.Ordinal).ToList();
        // The configured route must answer: an error there is the server's to report, not a route to pass over.
        foreach (var role in roles)
            if (await LetsInAsync(configured, role!, cancellationToken).ConfigureAwait(false)) return $"{configured.Host}:{configured.Port} as {role}";
        foreach (var (host, port) in await OtherRoutesAsync(configured, cancellationToken).ConfigureAwait(false))
        {
            // Short: an address a firewall drops would otherwise hold the server's start for the full timeout per role.
            var route = new NpgsqlConnectionStringBuilder(configured.ConnectionString) { Host = host, Port = port, Timeout = Math.Min(configured.Timeout, 5) };
            try
            {
                foreach (var role in roles)
                    if (await LetsInAsync(route, role!, cancellationToken).ConfigureAwait(false))
                        return (host.StartsWith('/') || host.StartsWith('@') ? $"its socket in {host}" : $"{host}:{port}") + $" as {role}";
            }
            catch (NpgsqlException) when (!cancellationToken.IsCancellationRequested)
            {
                // Nothing answers there (an address family this host lacks, a dropped port): not a way in, for any role.
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
                // Qualified: a role's own search_path (which whoever has the role may set) must not pick the function.
                "SELECT pg_catalog.current_setting('listen_addresses'), pg_catalog.current_setting('unix_socket_directories'), " +
                "pg_catalog.current_setting('port')::pg_catalog.int4", connection);
            await using var reader = await settings.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.IsDBNull(2)) return [];
            (listen, sockets, port) = (reader.IsDBNull(0) ? "" : reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetInt32(2));
        }
        catch (Exception error) when (error is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            return []; // the server's own connection will say what is wrong
        }
        var listened = Split(listen);
        // Every address (*, 0.0.0.0, ::) takes the loopback ones and each of this machine's own, which a
        // job sharing the host's network (sandbox_network, a Slurm node) reaches as well.
        var everywhere = listened.Any(address => address is "*" or "0.0.0.0" or "::");
        var addresses = new[] { "127.0.0.1", "::1" }
            .Where(address => everywhere || listened.Contains("localhost") || listened.Contains(address))
            .Concat(everywhere ? MachineAddresses() : listened.Where(address => address != "localhost"));
        var routes = addresses.Distinct(StringComparer.OrdinalIgnoreCase).Select(address => (address, port))
            .Concat(Split(sockets)
                // An abstract socket (@name) belongs to the network namespace: only a job sharing the host's sees it.
                .Where(folder => folder.StartsWith('@') || (folder.StartsWith('/') && File.Exists(Path.Combine(folder, $".s.PGSQL.{port}"))))
                .Select(folder => (folder, port)));
        return routes.Where(route => !(SameHost(route.Item1, host) && route.port == configured.Port)).ToList();

        static string[] Split(string list) => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        static bool SameHost(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal)
            || (a == "127.0.0.1" && b.Equals("localhost", StringComparison.OrdinalIgnoreCase));
    }

    private static IEnumerable<string> MachineAddresses()
    {
        try
        {
            return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .Where(card => card.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
                .SelectMany(card => card.GetIPProperties().UnicastAddresses)
                .Select(unicast => unicast.Address)
                .Where(address => !address.IsIPv6LinkLocal)
                .Select(address => address.ToString())
                .ToList();
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            return [];
        }
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
        // pg_hba.conf lines name databases too: a job refused on the server's may be trusted on another
        // ("host all all … trust" below "host ar_db …"), and once in, a role may set its own password.
        // A database that does not exist is told only after authentication (3D000), so it tries every
        // "all" line at once; postgres and template1 are there in every cluster. The server's own comes
        // first, and its 3D000 is the server's error to report, not a way in.
        var others = new[] { Superuser, "template1", "ar_probe_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant() }
            .Where(other => !string.Equals(other, probe.Database, StringComparison.Ordinal));
        foreach (var (database, isOther) in others.Select(other => ((string?)other, true)).Prepend((probe.Database, false)))
        {
            var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(probe.ConnectionString) { Database = database }.ConnectionString);
            // Not even the default ~/.postgresql/postgresql.crt, which Npgsql would otherwise present (it has
            // set the options up by the time it calls this).
            builder.UseSslClientAuthenticationOptionsCallback(NoClientCertificate);
            await using var dataSource = builder.Build();
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (PostgresException missing) when (isOther && missing.SqlState == PostgresErrorCodes.InvalidCatalogName)
            {
                return true;
            }
            catch (Exception error) when (IsRefusal(error))
            {
            }
        }
        return false;
    }

    private static void NoClientCertificate(System.Net.Security.SslClientAuthenticationOptions options)
    {
        options.ClientCertificates?.Clear();
        options.ClientCertificateContext = null;
        options.LocalCertificateSelectionCallback = null;
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
