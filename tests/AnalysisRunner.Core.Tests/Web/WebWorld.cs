using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>
/// A runner home the pages read, filled the way a run fills it (an audit row, a config, a driver batch,
/// a sub-batch, logs), without an executor: jobs move through the executor's own ledger, so a test says
/// exactly when a log grows and a job ends. alice is a member of fewgenomes (test and standard), bob of
/// othergenomes only.
/// </summary>
public sealed class WebWorld : IDisposable
{
    public const string Alice = "alice@example.org";
    public const string Bob = "bob@example.org";

    public WebWorld()
    {
        HomePath = Path.Combine("/tmp", "ar-web-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(HomePath);
        File.WriteAllText(Path.Combine(HomePath, "registry.toml"), """
            default_image = "registry.example.org/approved/driver:1"
            image_prefixes = ["registry.example.org/approved/"]

            [datasets.fewgenomes]
            repositories = ["populationgenomics/analysis-runner"]

            [datasets.fewgenomes.members]
            test = ["Alice@Example.org"]
            standard = ["alice@example.org"]

            [datasets.othergenomes]
            repositories = ["populationgenomics/analysis-runner"]

            [datasets.othergenomes.members]
            test = ["bob@example.org"]
            standard = ["bob@example.org"]
            """);
        Home = new RunnerHome(HomePath);
        Deployment = Deployment.Open(Home);
        Ledger = new SqliteJobLedger(Deployment.Database);
    }

    public string HomePath { get; }
    public RunnerHome Home { get; }
    public Deployment Deployment { get; }
    internal SqliteJobLedger Ledger { get; }

    /// <summary>A run as Submit-Analysis leaves it: config published, audit row and driver batch written together.</summary>
    public async Task<RunRecord> AddRunAsync(string dataset = "fewgenomes", AccessLevel level = AccessLevel.Test, string user = Alice,
        string description = "hello", DateTimeOffset? timestamp = null, string configToml = "[workflow]\ndataset = \"fewgenomes\"\n",
        IReadOnlyList<ConfigSnapshot>? snapshots = null)
    {
        var arGuid = Guid.NewGuid().ToString();
        var configPath = await Deployment.Configs.PublishAsync(arGuid, configToml);
        var run = new RunRecord
        {
            ArGuid = arGuid,
            Timestamp = timestamp ?? DateTimeOffset.UtcNow,
            User = user,
            Dataset = dataset,
            AccessLevel = level,
            Repository = "populationgenomics/analysis-runner",
            Commit = "0123456789abcdef0123456789abcdef01234567",
            Cwd = ".",
            Script = "examples/hello.ps1",
            ScriptArguments = ["world"],
            Description = description,
            OutputPrefix = "hello",
            OutputDir = $"gs://cpg-{dataset}-{level.Namespace()}/hello",
            ConfigPath = configPath,
            ConfigFiles = snapshots?.Select(snapshot => snapshot.Path).ToList() ?? [],
            ConfigSnapshots = snapshots ?? [],
        };
        var driver = new BatchSpec
        {
            Name = $"analysis-runner: {description}",
            ArGuid = arGuid,
            ConfigPath = configPath,
            TmpRoot = Path.Combine(HomePath, "tmp"),
            Attributes = RunAuthority.RunAttributes(run),
            Jobs = [new JobSpec { Index = 0, Name = "driver", Commands = ["pwsh -File examples/hello.ps1 world"], Image = "registry.example.org/approved/driver:1" }],
        };
        return Deployment.Database.InTransaction((connection, transaction) =>
        {
            var batchId = Deployment.Batches.Submit(driver, connection, transaction);
            return Deployment.AuditLog.Append(run with { DriverBatchId = batchId }, connection, transaction);
        });
    }

    /// <summary>A batch the run's driver submits: two jobs, the second reading the first's file.</summary>
    public long AddSubBatch(RunRecord run, string secondCommand = "cat {{ar:1:out}}") =>
        Deployment.Batches.Submit(new BatchSpec
        {
            Name = "hello sub-batch",
            ArGuid = run.ArGuid,
            ConfigPath = run.ConfigPath,
            TmpRoot = Path.Combine(HomePath, "tmp"),
            Attributes = RunAuthority.RunAttributes(run),
            Jobs =
            [
                new JobSpec { Index = 0, Name = "write", Commands = ["echo hello > {{ar:1:out}}"], Image = "registry.example.org/approved/base:1" },
                new JobSpec { Index = 1, Name = "read", Commands = [secondCommand], Image = "registry.example.org/approved/base:1", DependsOn = [0] },
            ],
        });

    /// <summary>Moves a job as the executor would.</summary>
    public void Move(long batchId, int jobId, JobState state, int? exitCode = null) =>
        Ledger.Write([new JobTransition(batchId, jobId, state, ExitCode: exitCode)], []);

    public void EndBatch(long batchId, BatchState state) => Ledger.Write([], [(batchId, state)]);

    /// <summary>Appends to an attempt's log as the job's shell would.</summary>
    public void WriteLog(long batchId, int jobId, string text, string stream = "stdout", int attempt = 1)
    {
        var paths = JobLogFiles.For(Home, batchId, jobId, attempt);
        var path = stream == "stdout" ? paths.Stdout : paths.Stderr;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.AppendAllText(path, text);
    }

    /// <summary>The folder of a dataset's web bucket on the local backend.</summary>
    public string WebBucket(string dataset, string ns) => Deployment.Buckets.Locate($"cpg-{dataset}-{ns}-web");

    public void Dispose()
    {
        Ledger.Dispose();
        try { Directory.Delete(HomePath, recursive: true); } catch (IOException) { }
    }
}
