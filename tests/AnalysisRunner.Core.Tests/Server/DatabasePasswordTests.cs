using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// The server will not serve over a database that lets anyone in as its role: a job that reaches
/// PostgreSQL (shared network, a Slurm node) would otherwise mint tokens for any user. This class
/// starts a cluster of its own that trusts everyone; the shared clusters ask for a password.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class DatabasePasswordTests(PostgresFixture postgres) : IAsyncLifetime
{
    private PostgresCluster? _trusting;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is not null) return;
        _trusting = await PostgresCluster.CreateAsync(asksForPassword: false);
    }

    public async Task DisposeAsync()
    {
        if (_trusting is not null) await _trusting.DisposeAsync();
    }

    /// <summary>Runs <paramref name="sql"/> on the trusting cluster as postgres; returns what its first statement answers.</summary>
    private async Task<object?> ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_trusting!.ConnectionString());
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>The trusting cluster as the class starts it: every route lets anyone in.</summary>
    private Task TrustEveryoneAsync() => _trusting!.SetClientAuthenticationAsync("host all all 127.0.0.1/32 trust", "local all all trust");

    [BackendFact]
    public async Task The_server_refuses_to_start_over_a_database_that_accepts_any_password()
    {
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => RunningServer.StartAsync(_trusting!.ConnectionString()));

        Assert.Equal(("DatabaseAcceptsAnyPassword", ErrorKind.PermissionDenied), (error.ErrorId, error.Kind));
        Assert.Contains($"127.0.0.1:{_trusting!.Port}", error.Message);
        Assert.Contains("allow_without_password", error.Message);
    }

    [BackendFact]
    public async Task An_admin_who_says_no_job_can_reach_the_database_may_start_it_anyway()
    {
        await using var server = await RunningServer.StartAsync(_trusting!.ConnectionString(), null, "--database:allow_without_password=true");

        using var client = server.Client();
        Assert.True((await client.GetAsync(Http.ApiRoutes.Health)).IsSuccessStatusCode);
    }

    /// <summary>
    /// The server's own role asks for its password, but a line after it trusts every other role: a
    /// job on that route connects as postgres. The probe tries postgres too.
    /// </summary>
    [BackendFact]
    public async Task A_database_that_asks_only_the_servers_role_for_a_password_is_refused_too()
    {
        var asServer = new Npgsql.NpgsqlConnectionStringBuilder(_trusting!.ConnectionString()) { Username = "ar", Password = "the-servers-own" };
        await using (var connection = new Npgsql.NpgsqlConnection(_trusting.ConnectionString()))
        {
            await connection.OpenAsync();
            await using var role = new Npgsql.NpgsqlCommand("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ar') THEN CREATE ROLE ar LOGIN PASSWORD 'the-servers-own'; END IF; END $$; GRANT CREATE ON SCHEMA public TO ar", connection);
            await role.ExecuteNonQueryAsync();
        }
        await _trusting.SetClientAuthenticationAsync("host all ar 127.0.0.1/32 scram-sha-256", "host all all 127.0.0.1/32 trust", "local all all trust");
        try
        {
            Assert.True(await PasswordDemand.AcceptsAnyPasswordAsync(asServer.ConnectionString));

            var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => RunningServer.StartAsync(asServer.ConnectionString));
            Assert.Equal("DatabaseAcceptsAnyPassword", error.ErrorId);
        }
        finally
        {
            await TrustEveryoneAsync();
        }
    }

    /// <summary>
    /// The server's address asks for a password, but its socket does not ("local all all trust", or
    /// Debian's "local all all peer" for a job running as the server's user): a job on this machine
    /// connects there. The probe asks the database where else it listens and tries those routes too.
    /// </summary>
    [BackendFact]
    public async Task A_database_that_asks_on_its_address_but_not_on_its_socket_is_refused()
    {
        await ExecuteAsync("ALTER ROLE postgres PASSWORD 'the-servers-own'");
        var asServer = new Npgsql.NpgsqlConnectionStringBuilder(_trusting!.ConnectionString()) { Password = "the-servers-own" }.ConnectionString;
        await _trusting.SetClientAuthenticationAsync("host all all 127.0.0.1/32 scram-sha-256", "local all all trust");
        try
        {
            Assert.Equal($"its socket in {_trusting.SocketFolder} as postgres", await PasswordDemand.OpenRouteAsync(asServer));
            var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => RunningServer.StartAsync(asServer));
            Assert.Equal("DatabaseAcceptsAnyPassword", error.ErrorId);
            Assert.Contains("its socket in", error.Message);

            await _trusting.SetClientAuthenticationAsync("host all all 127.0.0.1/32 scram-sha-256", "local all all scram-sha-256");
            Assert.Null(await PasswordDemand.OpenRouteAsync(asServer));
        }
        finally
        {
            await TrustEveryoneAsync();
        }
    }

    /// <summary>
    /// Red team: the server's database asks for a password, but a line below it trusts every other
    /// database; a job connects to one as the server's role, sets the role's password, and enters the
    /// server's database with it. The probe tries databases the connection string does not name.
    /// </summary>
    [BackendFact]
    public async Task A_database_whose_neighbours_trust_everyone_is_refused()
    {
        await ExecuteAsync("ALTER ROLE postgres PASSWORD 'the-servers-own'");
        if (await ExecuteAsync("SELECT count(*) FROM pg_database WHERE datname = 'app'") is 0L) await ExecuteAsync("CREATE DATABASE app");
        var asServer = new Npgsql.NpgsqlConnectionStringBuilder(_trusting!.ConnectionString("app")) { Password = "the-servers-own" }.ConnectionString;
        await _trusting.SetClientAuthenticationAsync("host app all 127.0.0.1/32 scram-sha-256", "host all all 127.0.0.1/32 trust", "local all all scram-sha-256");
        try
        {
            Assert.NotNull(await PasswordDemand.OpenRouteAsync(asServer));

            // Only the postgres database trusted: named outright, since a database that does not exist matches no line.
            await _trusting.SetClientAuthenticationAsync("host app all 127.0.0.1/32 scram-sha-256", "host postgres all 127.0.0.1/32 trust",
                "host all all 127.0.0.1/32 scram-sha-256", "local all all scram-sha-256");
            Assert.NotNull(await PasswordDemand.OpenRouteAsync(asServer));

            await _trusting.SetClientAuthenticationAsync("host all all 127.0.0.1/32 scram-sha-256", "local all all scram-sha-256");
            Assert.Null(await PasswordDemand.OpenRouteAsync(asServer));
        }
        finally
        {
            await TrustEveryoneAsync();
        }
    }

    /// <summary>
    /// Red team: whoever has the server's role sets its search_path to put a current_setting of its
    /// own first, so the probe, connected by the socket, reads "listens on no address" and never tries
    /// the trusting loopback line. The probe reads pg_catalog's settings.
    /// </summary>
    [BackendFact]
    public async Task The_probe_reads_the_databases_own_settings_not_a_function_on_the_roles_search_path()
    {
        await ExecuteAsync("""
            ALTER ROLE postgres PASSWORD 'the-servers-own';
            CREATE OR REPLACE FUNCTION public.current_setting(name text) RETURNS text LANGUAGE sql AS
              $$ SELECT CASE WHEN name = 'listen_addresses' THEN '' ELSE pg_catalog.current_setting(name) END $$;
            ALTER ROLE postgres SET search_path = public, pg_catalog;
            """);
        var asServer = new Npgsql.NpgsqlConnectionStringBuilder(_trusting!.ConnectionString()) { Host = _trusting.SocketFolder, Password = "the-servers-own" }.ConnectionString;
        await _trusting.SetClientAuthenticationAsync("host all all 127.0.0.1/32 trust", "local all all scram-sha-256");
        try
        {
            Assert.Equal($"127.0.0.1:{_trusting.Port} as postgres", await PasswordDemand.OpenRouteAsync(asServer));
        }
        finally
        {
            await TrustEveryoneAsync();
            await ExecuteAsync("ALTER ROLE postgres RESET search_path; DROP FUNCTION public.current_setting(text)");
        }
    }

    /// <summary>The home's executor reaches its batches by the home's own [batches] string, which the server checks as well.</summary>
    [BackendFact]
    public async Task A_runner_home_whose_batches_are_on_a_route_that_asks_for_no_password_is_refused()
    {
        var home = new Hosting.RunnerHome(Path.Combine("/tmp", "ar-pwd-" + Guid.NewGuid().ToString("N")[..10]));
        Hosting.Deployment.Open(home);
        var trusting = _trusting!.ConnectionString();
        var asking = await postgres.CreateDatabaseAsync();
        await File.AppendAllTextAsync(home.SettingsPath, $"\n[batches]\ndatabase = '{trusting}'\n");
        try
        {
            var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => RunningServer.StartAsync(asking, null, "--runner:home=" + home.Root));

            Assert.Equal("DatabaseAcceptsAnyPassword", error.ErrorId);
            Assert.Contains($"127.0.0.1:{_trusting.Port}", error.Message);
        }
        finally
        {
            await Hosting.Deployment.CloseBatchDatabaseAsync(trusting);
            Directory.Delete(home.Root, recursive: true);
        }
    }

    [BackendFact]
    public async Task A_database_that_asks_for_the_password_is_told_apart_from_one_that_does_not()
    {
        var asking = await postgres.CreateDatabaseAsync();

        Assert.False(await PasswordDemand.AcceptsAnyPasswordAsync(asking));
        Assert.True(await PasswordDemand.AcceptsAnyPasswordAsync(_trusting!.ConnectionString()));
        // The right password still works: the probe changes nothing for the server's own connections.
        await using var database = new PostgresDatabase(asking);
        await database.PingAsync();
    }
}
