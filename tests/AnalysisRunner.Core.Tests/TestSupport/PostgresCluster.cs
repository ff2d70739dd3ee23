using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AnalysisRunner.Core.Tests.TestSupport;

/// <summary>
/// A throwaway PostgreSQL cluster for tests: initdb into a temporary folder, pg_ctl start on a free
/// port of 127.0.0.1 with its socket in that folder, no fsync. It asks for a password (scram-sha-256,
/// as a server's database must: ServerHost refuses one that does not), which ConnectionString carries;
/// a cluster made with <c>asksForPassword: false</c> trusts everyone. As root (CI, these machines) the
/// server runs as the postgres user, which initdb requires. Stopped and deleted on dispose.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string BinVariable = "AR_TEST_PG_BIN";

    private readonly string _folder;
    private bool _running;

    private PostgresCluster(string bin, string folder)
    {
        Bin = bin;
        _folder = folder;
    }

    public string Bin { get; }
    public int Port { get; private set; }

    /// <summary>The postgres role's password; null for a cluster that trusts everyone.</summary>
    public string? Password { get; private init; }
    /// <summary>Where the server's Unix socket is (its only one): pg_hba.conf's "local" lines govern it.</summary>
    public string SocketFolder => _folder;

    private string DataDirectory => Path.Combine(_folder, "data");
    private string LogPath => Path.Combine(_folder, "server.log");

    /// <summary>Where initdb and pg_ctl are: AR_TEST_PG_BIN, else the newest /usr/lib/postgresql/*/bin.</summary>
    public static string? FindBin()
    {
        var configured = Environment.GetEnvironmentVariable(BinVariable);
        if (!string.IsNullOrWhiteSpace(configured)) return File.Exists(Path.Combine(configured, "initdb")) ? configured : null;
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.EnumerateDirectories(root)
            .Select(version => (Version: int.TryParse(Path.GetFileName(version), out var number) ? number : 0, Bin: Path.Combine(version, "bin")))
            .Where(candidate => File.Exists(Path.Combine(candidate.Bin, "initdb")) && File.Exists(Path.Combine(candidate.Bin, "pg_ctl")))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Bin)
            .FirstOrDefault();
    }

    /// <summary>Why PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? MissingReason => FindBin() is null
        ? "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or $" + BinVariable +
          ": install them (apt-get install -y --no-install-recommends postgresql-15; .ci/run does) to run the PostgreSQL tests."
        : null;

    public static async Task<PostgresCluster> CreateAsync(bool asksForPassword = true)
    {
        var bin = FindBin() ?? throw new InvalidOperationException(MissingReason);
        var folder = Path.Combine(Path.GetTempPath(), "ar-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var cluster = new PostgresCluster(bin, folder) { Password = asksForPassword ? Guid.NewGuid().ToString("N") : null };
        try
        {
            string[] authentication = ["-A", "trust"];
            if (cluster.Password is { } password)
            {
                var passwordFile = Path.Combine(folder, "password");
                await File.WriteAllTextAsync(passwordFile, password);
                authentication = ["-A", "scram-sha-256", "--pwfile", passwordFile];
            }
            if (Environment.IsPrivilegedProcess) await RunAsync("chown", "-R", "postgres:postgres", folder);
            await cluster.AsServerUserAsync(Path.Combine(bin, "initdb"), ["-D", cluster.DataDirectory, .. authentication, "-U", "postgres",
                "-E", "UTF8", "--no-locale", "--no-sync"]);
            // Another process may take the port between our probe and the server's bind: try a few.
            for (var attempt = 1; ; attempt++)
            {
                cluster.Port = FreePort();
                try
                {
                    await cluster.StartAsync();
                    break;
                }
                catch (InvalidOperationException) when (attempt < 5 && cluster.ReadLog().Contains("Address already in use"))
                {
                }
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = Port, Username = "postgres", Password = Password, Database = database,
            // Short, so a test against a stopped server fails in seconds, not the default 15.
            Timeout = 5,
        }.ToString();

    /// <summary>A fresh, empty database for one test, so tests need not clean up after each other.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Starts the server again on the same port (after <see cref="StopAsync"/>); returns when it accepts connections.</summary>
    public async Task StartAsync()
    {
        await AsServerUserAsync(Path.Combine(Bin, "pg_ctl"), "-D", DataDirectory, "-l", LogPath, "-w", "-t", "60",
            "-o", $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", "start");
        _running = true;
    }

    /// <summary>
    /// Fast shutdown (open connections are cut), or "immediate" (every process killed, crash recovery
    /// on the next start, as a crash would); returns when the server is gone.
    /// </summary>
    public async Task StopAsync(string mode = "fast")
    {
        if (!_running) return;
        await AsServerUserAsync(Path.Combine(Bin, "pg_ctl"), "-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop");
        _running = false;
    }

    /// <summary>Replaces pg_hba.conf with <paramref name="lines"/> and has the server read it again.</summary>
    public async Task SetClientAuthenticationAsync(params string[] lines)
    {
        await File.WriteAllLinesAsync(Path.Combine(DataDirectory, "pg_hba.conf"), lines);
        await AsServerUserAsync(Path.Combine(Bin, "pg_ctl"), "-D", DataDirectory, "reload");
    }

    public string ReadLog() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        }
    }

    private Task AsServerUserAsync(string file, params string[] arguments) =>
        Environment.IsPrivilegedProcess ? RunAsync("runuser", ["-u", "postgres", "--", file, .. arguments]) : RunAsync(file, arguments);

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>
/// One cluster shared by every test class of the "PostgreSQL" collection, started on first use
/// (so a run where PostgreSQL is missing, and every test is skipped, starts nothing).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PostgresCluster? _cluster;

    public async Task<PostgresCluster> GetClusterAsync()
    {
        await _gate.WaitAsync();
        try
        {
            return _cluster ??= await PostgresCluster.CreateAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task<string> CreateDatabaseAsync() => GetClusterAsync().ContinueWith(t => t.Result.CreateDatabaseAsync()).Unwrap();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

/// <summary>
/// The server's and the stores' test classes, on one cluster (a database each). The PostgreSQL work is
/// split in four collections, each with its own cluster, that run beside each other and beside the
/// rest: run one after another, after everything else, they were the longest part of the suite. (They
/// once ran alone because the executor's crash-recovery tests needed a job to outlast a restart; those
/// now hold their jobs at a gate until the new executor has them, however slow the machine.)
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}

/// <summary>The web pages' test classes, on a cluster of their own (see <see cref="PostgresCollection"/>).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresWebCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL: web pages";
}

/// <summary>The HTTP client's test classes, on a cluster of their own (see <see cref="PostgresCollection"/>).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresClientCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL: clients";
}

/// <summary>The batch stores' classes over PostgreSQL batches, on a cluster of their own (see <see cref="PostgresCollection"/>).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresBatchCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL: batches";
}
