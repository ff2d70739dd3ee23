using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Server.Admin;
using AnalysisRunner.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// The settings file, its overrides, TLS from a Kestrel certificate and the server-local admin
/// command. In the PostgreSQL collection because some set AR_SERVER_ variables, which every server
/// start reads; the collection runs one test at a time.
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class ServerSettingsTests(PostgresFixture postgres) : IDisposable
{
    private readonly TempFolder _folder = new("ar-server-settings");

    public void Dispose() => _folder.Dispose();

    private string WriteSettings(string toml)
    {
        var path = _folder.Combine("server.toml");
        File.WriteAllText(path, toml);
        return path;
    }

    private static ServerSettings Load(string? file, params string[] args)
    {
        var configuration = new ConfigurationManager();
        ServerSettings.AddSources(configuration, file, args);
        return ServerSettings.From(configuration, file);
    }

    [Fact]
    public void Without_settings_the_server_listens_on_127_0_0_1_with_a_1_MiB_body_limit()
    {
        var settings = Load(null);
        Assert.Equal("http://127.0.0.1:5080", settings.Urls);
        Assert.Equal(1024 * 1024, settings.MaxRequestBodyBytes);
        Assert.Null(settings.ConnectionString);
    }

    [Fact]
    public void Usage_max_days_defaults_to_366_and_is_read_and_checked()
    {
        Assert.Equal(366, Load(null).UsageWindow.MaxDays);
        Assert.Equal(30, Load(WriteSettings("[usage]\nmax_days = 30\n")).UsageWindow.MaxDays);
        var zero = Assert.Throws<AnalysisRunnerException>(() => Load(null, "--usage:max_days=0"));
        var typo = Assert.Throws<AnalysisRunnerException>(() => Load(null, "--usage:max_day=30"));
        Assert.Equal("InvalidServerSettings", zero.ErrorId);
        Assert.Contains("usage.max_days must be a positive number of days, not '0'", zero.Message);
        Assert.Contains("unknown key 'usage.max_day'", typo.Message);
    }

    [Fact]
    public void The_file_is_read_and_environment_then_command_line_override_it()
    {
        var file = WriteSettings("""
            [server]
            urls = "http://127.0.0.1:6000"
            max_request_body_bytes = 2048
            [database]
            connection_string = "Host=db;Username=ar"
            """);
        var settings = Load(file);
        Assert.Equal(("http://127.0.0.1:6000", 2048L, "Host=db;Username=ar"), (settings.Urls, settings.MaxRequestBodyBytes, settings.ConnectionString));

        Environment.SetEnvironmentVariable("AR_SERVER__database__connection_string", "Host=env;Username=ar");
        try
        {
            Assert.Equal("Host=env;Username=ar", Load(file).ConnectionString);
            Assert.Equal("Host=cli", Load(file, "--database:connection_string=Host=cli").ConnectionString);
        }
        finally
        {
            Environment.SetEnvironmentVariable("AR_SERVER__database__connection_string", null);
        }
    }

    [Fact]
    public void The_settings_file_is_found_from_the_command_line_or_AR_SERVER_SETTINGS()
    {
        Assert.Equal("/etc/ar/server.toml", ServerSettings.FindSettingsFile(["--settings", "/etc/ar/server.toml"]));
        Assert.Equal("/etc/ar/s.toml", ServerSettings.FindSettingsFile(["--settings=/etc/ar/s.toml"]));
        Environment.SetEnvironmentVariable(ServerSettings.SettingsFileVariable, "/srv/ar.toml");
        try
        {
            Assert.Equal("/srv/ar.toml", ServerSettings.FindSettingsFile([]));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ServerSettings.SettingsFileVariable, null);
        }
    }

    [Theory]
    [InlineData("[server]\nurl = \"http://0.0.0.0:80\"\n", "unknown key 'server.url'")]
    [InlineData("[database]\nconnectionstring = \"x\"\n", "unknown key 'database.connectionstring'")]
    [InlineData("[server]\nmax_request_body_bytes = -1\n", "max_request_body_bytes")]
    [InlineData("[runner]\nruns = \"sqlite\"\n", "runner.runs must be")]
    public void A_misspelt_or_invalid_key_is_refused_rather_than_defaulted(string toml, string message)
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => Load(WriteSettings(toml)));
        Assert.Equal("InvalidServerSettings", error.ErrorId);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("[runner]\nruns = \"database\"\n", true)]
    [InlineData("[runner]\nruns = \"home\"\n", false)]
    public void Runs_are_kept_in_the_database_unless_the_settings_say_home(string toml, bool inDatabase) =>
        Assert.Equal(inDatabase, Load(WriteSettings(toml)).RunsInDatabase);

    [Fact]
    public void A_module_folder_that_holds_no_built_module_stops_the_server_naming_it()
    {
        var notAModule = _folder.Combine("not-a-module");
        Directory.CreateDirectory(notAModule);
        Assert.Equal(notAModule, Load(WriteSettings($"[runner]\nmodule = \"{notAModule}\"\n")).Module);

        var error = Assert.Throws<AnalysisRunnerException>(() => ServerHost.Build(["--settings", WriteSettings($"[runner]\nmodule = \"{notAModule}\"\n")]));

        Assert.Equal(("ModuleNotFound", notAModule), (error.ErrorId, error.Target));
        Assert.Contains("build.ps1 -Task Build", error.Message);
    }

    [Fact]
    public void A_missing_settings_file_is_named()
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => Load(_folder.Combine("nope.toml")));
        Assert.Equal(("ServerSettingsNotFound", _folder.Combine("nope.toml")), (error.ErrorId, error.Target));
    }

    /// <summary>Nothing is migrated or served first, so no database is needed to see the refusal.</summary>
    [Fact]
    public async Task The_server_will_not_start_while_its_settings_or_tls_key_are_where_job_sandboxes_show_them()
    {
        var home = _folder.Combine("home");
        Directory.CreateDirectory(Path.Combine(home, "bin"));
        Directory.CreateDirectory(Path.Combine(home, "buckets", "fewgenomes-test"));
        var key = Path.Combine(home, "buckets", "fewgenomes-test", "server.key");
        File.WriteAllText(key, "-----BEGIN PRIVATE KEY-----");
        var settings = Path.Combine(home, "bin", "server.toml");
        File.WriteAllText(settings, $"""
            [database]
            connection_string = "Host=127.0.0.1;Port=1;Username=ar;Password=in-the-settings"
            [runner]
            home = "{home}"
            [Kestrel.Certificates.Default]
            Path = "{_folder.Combine("server.crt")}"
            KeyPath = "{key}"
            """);

        await using var app = ServerHost.Build(["--settings", settings, "--server:urls=http://127.0.0.1:0"]);
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => ServerHost.StartAsync(app));

        Assert.Equal(("SecretVisibleToJobs", ErrorKind.PermissionDenied, (object?)settings), (error.ErrorId, error.Kind, error.Target));
        Assert.Contains($"The server settings file '{settings}' is under '{Path.Combine(home, "bin")}', which job sandboxes show", error.Message);
        Assert.Contains($"The TLS private key (Kestrel:Certificates:Default:KeyPath) '{key}' is under '{Path.Combine(home, "buckets")}'", error.Message);
    }

    [BackendFact]
    public async Task Https_is_served_with_the_certificate_the_settings_name()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(_folder.Combine("server.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(_folder.Combine("server.key"), key.ExportPkcs8PrivateKeyPem());
        var file = WriteSettings($"""
            [server]
            urls = "https://127.0.0.1:0"
            [database]
            connection_string = "{await postgres.CreateDatabaseAsync()}"
            [Kestrel.Certificates.Default]
            Path = "{_folder.Combine("server.crt")}"
            KeyPath = "{_folder.Combine("server.key")}"
            """);

        await using var app = ServerHost.Build(["--settings", file]);
        await ServerHost.StartAsync(app);
        var address = ServerHost.Addresses(app).Single();
        Assert.Equal("https", address.Scheme);

        X509Certificate2? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                presented = cert is null ? null : X509CertificateLoader.LoadCertificate(cert.RawData);
                return cert?.Thumbprint == certificate.Thumbprint;
            },
        };
        using var client = new RunnerHttpClient(new ServerConnection(address, null), handler);
        Assert.Equal("healthy", (await client.GetHealthAsync()).Status);
        Assert.Equal(certificate.Thumbprint, presented?.Thumbprint);
        await app.StopAsync();
    }

    [BackendFact]
    public async Task The_server_local_command_issues_lists_and_revokes_tokens_without_a_token()
    {
        var file = WriteSettings($"""
            [database]
            connection_string = "{await postgres.CreateDatabaseAsync()}"
            """);
        var output = new StringWriter();
        var errors = new StringWriter();

        Assert.Equal(0, await TokenCommand.RunAsync(["issue", "--user", "Root@Lab.org", "--admin", "--expires-in", "30d", "--settings", file], output, errors));
        var token = output.ToString().Split('\n').Single(line => line.StartsWith("token ")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Contains("shown once", output.ToString());

        await using (var app = ServerHost.Build(["--settings", file, "--server:urls=http://127.0.0.1:0"]))
        {
            await ServerHost.StartAsync(app);
            using var client = new RunnerHttpClient(new ServerConnection(ServerHost.Addresses(app).Single(), token));
            var caller = await client.WhoAmIAsync();
            Assert.Equal(("root@lab.org", true), (caller.User, caller.Admin));
            Assert.True(caller.ExpiresAt > DateTimeOffset.UtcNow.AddDays(29));
            await app.StopAsync();
        }

        output.GetStringBuilder().Clear();
        Assert.Equal(0, await TokenCommand.RunAsync(["list", "--settings", file], output, errors));
        Assert.Contains("root@lab.org\tadmin\tActive", output.ToString());
        Assert.DoesNotContain(token, output.ToString());

        output.GetStringBuilder().Clear();
        Assert.Equal(0, await TokenCommand.RunAsync(["revoke", "--user", "root@lab.org", "--settings", file], output, errors));
        Assert.StartsWith("revoked ", output.ToString());

        Assert.Equal(2, await TokenCommand.RunAsync(["issue", "--settings", file], output, errors));
        Assert.Contains("--user EMAIL is required", errors.ToString());
        Assert.Equal(2, await TokenCommand.RunAsync(["issue", "--user", "a@b.c", "--expires-in", "soon", "--settings", file], output, errors));
        Assert.Contains("not a duration", errors.ToString());
    }

    [BackendFact]
    public async Task Migrating_a_database_that_has_tokens_says_they_stop_working_and_lists_them_as_unsealed()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using (var earlier = new Core.Postgres.PostgresDatabase(connectionString))
        {
            await new Core.Postgres.SchemaMigrator(earlier).ApplyAsync(Core.Postgres.ServerSchema.Migrations.Take(5).ToList());
            await using var connection = await earlier.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand("""
                INSERT INTO api_tokens (id, token_hash, user_email, is_admin, created_at) VALUES ('0123456789abcdef', 'ab', 'old@lab.org', true, now())
                """, connection);
            await insert.ExecuteNonQueryAsync();
        }
        var file = WriteSettings($"""
            [database]
            connection_string = "{connectionString}"
            [runner]
            home = "{_folder.Combine("home")}"
            """);
        var output = new StringWriter();
        var errors = new StringWriter();

        Assert.Equal(0, await TokenCommand.RunAsync(["list", "--all", "--settings", file], output, errors));
        Assert.Contains("those issued before no longer work", errors.ToString());
        Assert.Contains("0123456789abcdef\told@lab.org\tadmin\tUnsealed", output.ToString());

        errors.GetStringBuilder().Clear();
        Assert.Equal(0, await TokenCommand.RunAsync(["list", "--settings", file], output, errors));
        Assert.Equal("", errors.ToString());
    }
}
