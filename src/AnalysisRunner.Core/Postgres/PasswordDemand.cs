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
    /// <summary>
    /// Connects once with the settings' connection string but a password nobody knows, no passfile
    /// and no client certificate: PostgreSQL accepting it means it asks the role for no proof at all.
    /// (A certificate a job cannot read is proof; without it, certificate-only auth rejects the probe.)
    /// </summary>
    public static async Task<bool> AcceptsAnyPasswordAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
            Passfile = null,
            SslCertificate = null,
            SslKey = null,
            SslPassword = null,
            Pooling = false,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        // 28P01: wrong password; 28000: pg_hba.conf rejects this client without asking (e.g. "reject", or cert only).
        catch (PostgresException error) when (error.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            return false;
        }
    }

    /// <summary>What a server that found its database accepting any password stops with.</summary>
    public static AnalysisRunnerException Refusal(string databaseDescription) =>
        new("DatabaseAcceptsAnyPassword", ErrorKind.PermissionDenied, databaseDescription,
            $"{databaseDescription} let the server in with a password it made up (trust or peer authentication), so a job " +
            "that can reach it (shared network, a Slurm node, its socket) could connect as the server and mint tokens for any user. " +
            "Require a password for this role in pg_hba.conf (scram-sha-256) and give the server its password by " +
            "AR_SERVER__database__connection_string, PGPASSWORD or a .pgpass file; or, only if no job can reach this database at all, " +
            "set [database] allow_without_password = true in the server settings.");
}
