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
    /// reject the probe.)
    /// </summary>
    public static async Task<bool> AcceptsAnyPasswordAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var configured = new NpgsqlConnectionStringBuilder(connectionString);
        foreach (var role in new[] { configured.Username, Superuser }.Where(role => !string.IsNullOrEmpty(role)).Distinct(StringComparer.Ordinal))
            if (await LetsInAsync(configured, role!, cancellationToken).ConfigureAwait(false)) return true;
        return false;
    }

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
    public static AnalysisRunnerException Refusal(string databaseDescription) =>
        new("DatabaseAcceptsAnyPassword", ErrorKind.PermissionDenied, databaseDescription,
            $"{databaseDescription} let the server in with a password it made up (trust or peer authentication, for its role " +
            $"or for {Superuser}), so a job that can reach it (shared network, a Slurm node, its socket) could connect as the server " +
            "and mint tokens for any user. Require a password for every role on this route in pg_hba.conf (scram-sha-256) and give " +
            "the server its password by AR_SERVER__database__connection_string, PGPASSWORD or a .pgpass file; or, only if no job can " +
            "reach this database at all, set [database] allow_without_password = true in the server settings.");
}
