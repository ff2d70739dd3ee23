using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tests.Runs;

/// <summary>
/// A runner home whose registry allowlists a local origin (scripts/hello.sh on main) for fewgenomes.
/// The authority is tested alone: submissions wake a <see cref="RecordingExecutor"/>, not an executor
/// process, so nothing runs the driver (the executor's own tests do that).
/// </summary>
internal sealed class AuthorityWorld : IDisposable
{
    public const string Alice = "alice@example.org";

    public AuthorityWorld()
    {
        Git.CommitFile("scripts/hello.sh", "#!/bin/bash\necho \"Hello, $1!\"\n", executable: true);
        Main = Git.Head();
        Git.Push();
        HomePath = Path.Combine("/tmp", "ar-auth-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(HomePath);
        File.WriteAllText(Path.Combine(HomePath, "registry.toml"), $"""
            default_image = "registry.example.org/approved/driver:1"
            image_prefixes = ["registry.example.org/approved/"]

            [datasets.fewgenomes]
            repositories = ["{Git.OriginPath}"]

            [datasets.fewgenomes.members]
            test = ["Alice@Example.org"]
            standard = ["alice@example.org"]
            full = ["alice@example.org"]

            [datasets.othergenomes]
            repositories = ["{Git.OriginPath}"]

            [datasets.othergenomes.members]
            test = []
            """);
        Home = new RunnerHome(HomePath);
        Deployment = Deployment.Open(Home, Executor);
        Authority = new RunAuthority(Deployment);
    }

    public GitFixture Git { get; } = new();
    public RecordingExecutor Executor { get; } = new();
    public string Main { get; }
    public string HomePath { get; }
    public RunnerHome Home { get; }
    public Deployment Deployment { get; }
    public RunAuthority Authority { get; }
    public Caller Caller { get; } = new(Alice, "test");

    public SubmissionFacts Facts(AccessLevel level = AccessLevel.Test) => new()
    {
        Dataset = "fewgenomes",
        AccessLevel = level,
        Description = "d",
        OutputDir = "out",
        Script = "hello.sh",
        ScriptArguments = ["world"],
        RepositoryUrl = Git.OriginPath,
        Commit = Main,
        Cwd = "scripts",
    };

    public int Configs => Directory.Exists(Home.ConfigStoreDirectory) ? Directory.GetFiles(Home.ConfigStoreDirectory).Length : 0;
    public int LogRows => Deployment.AuditLog.ReadChain().Count();
    public async Task<int> BatchesAsync() => (await Deployment.Batches.FindBatchesAsync(new AnalysisRunner.Core.Batch.BatchQuery())).Count;

    public void Sql(string sql)
    {
        using var connection = Deployment.Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        SqliteConnection.ClearPool(new SqliteConnection(Deployment.Database.ConnectionString));
        foreach (var file in Directory.EnumerateFiles(HomePath, "*", SearchOption.AllDirectories))
            File.SetAttributes(file, FileAttributes.Normal);
        Directory.Delete(HomePath, recursive: true);
        Git.Dispose();
    }
}

/// <summary>Counts wakes: what a submission would tell the executor, without one.</summary>
internal sealed class RecordingExecutor : AnalysisRunner.Core.Batch.IExecutorClient
{
    private int _wakes;

    public int Wakes => Volatile.Read(ref _wakes);

    public void Wake() => Interlocked.Increment(ref _wakes);
}
