using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// A real server over a runner home, with the git origin its runs come from: what the server test
/// classes share. The home's batches are in its runner.db, or with <paramref name="batchesInPostgres"/>
/// in the server's PostgreSQL database ([batches] database). The caller commits its scripts to
/// <see cref="Git"/>, then starts it with the registry's datasets.
/// </summary>
internal sealed class ServerWorld(string rootPrefix, bool batchesInPostgres = false) : IAsyncDisposable
{
    public GitFixture Git { get; } = new();
    public string Root { get; } = Path.Combine("/tmp", rootPrefix + Guid.NewGuid().ToString("N")[..10]);
    /// <summary>Owns the home: stops the executor the server starts for it, and deletes it.</summary>
    public TestHome? Home { get; private set; }
    public RunningServer? Server { get; private set; }
    public string ConnectionString { get; private set; } = "";

    /// <summary>
    /// Writes the registry (approved images, then <paramref name="datasets"/>' TOML), makes the home and,
    /// where PostgreSQL's binaries are present, a database of its own, the home's [batches] setting if
    /// the batches are PostgreSQL's and the server, with <paramref name="settings"/> (--section:key=value) besides.
    /// </summary>
    public async Task StartAsync(PostgresFixture postgres, string datasets, string sandbox, params string[] settings)
    {
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "registry.toml"), """
            default_image = "registry.example.org/approved/driver:1"
            image_prefixes = ["registry.example.org/approved/"]

            """ + datasets);
        Home = new TestHome(Root, sandbox: sandbox);
        if (PostgresCluster.MissingReason is not null) return;
        ConnectionString = await postgres.CreateDatabaseAsync();
        if (batchesInPostgres)
            await File.AppendAllTextAsync(Home.Home.SettingsPath, $"\n[batches]\ndatabase = '{ConnectionString}'\n");
        Server = await RunningServer.StartAsync(ConnectionString, null, ["--runner:home=" + Root, .. settings]);
    }

    /// <summary>Commits scripts/hello.sh (it says "Hello, $1!") to the origin and returns that commit.</summary>
    public string CommitHello()
    {
        Git.CommitFile("scripts/hello.sh", "#!/bin/bash\necho \"Hello, $1!\"\n", executable: true);
        var commit = Git.Head();
        Git.Push();
        return commit;
    }

    /// <summary>The registry's TOML for a dataset whose repository is the origin, with these members at test.</summary>
    public string Dataset(string name, params string[] testMembers) => $"""
        [datasets.{name}]
        repositories = ["{Git.OriginPath}"]

        [datasets.{name}.members]
        test = [{string.Join(", ", testMembers.Select(member => $"\"{member}\""))}]

        """;

    /// <summary>What a client sends to run scripts/hello.sh with the argument "world" at <paramref name="commit"/> (<see cref="CommitHello"/>).</summary>
    public SubmissionFacts HelloFacts(string commit, string dataset = "fewgenomes", string description = "hello") => new()
    {
        Dataset = dataset,
        AccessLevel = AccessLevel.Test,
        Description = description,
        OutputDir = "out",
        Script = "hello.sh",
        ScriptArguments = ["world"],
        RepositoryUrl = Git.OriginPath,
        Commit = commit,
        Cwd = "scripts",
    };

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        // After the executor (stopped by the home) is done with the database.
        Home?.Dispose();
        if (batchesInPostgres && ConnectionString.Length > 0) await Deployment.CloseBatchDatabaseAsync(ConnectionString);
        Git.Dispose();
    }
}
