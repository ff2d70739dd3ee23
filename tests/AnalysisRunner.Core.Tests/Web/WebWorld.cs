using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>
/// A runner home the pages read, filled the way a run fills it: an audit row, a config and a driver
/// batch written together (through the run store the server reads, once a WebTest started one), sub-batches, and the real executor running their jobs (and writing their
/// logs), held at a <see cref="JobGate"/> where a test needs a job running. alice is a member of
/// fewgenomes (test and standard), bob of othergenomes only.
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
        Executor = new TestHome(HomePath, sandbox: "none");
    }

    public string HomePath { get; }
    public RunnerHome Home { get; }
    public Deployment Deployment { get; }

    /// <summary>Starts, waits on and stops the executor of this home (and deletes the home when disposed).</summary>
    public TestHome Executor { get; }

    /// <summary>A run as Submit-Analysis leaves it: config published, audit row and driver batch written together.</summary>
    public async Task<RunRecord> AddRunAsync(string dataset = "fewgenomes", AccessLevel level = AccessLevel.Test, string user = Alice,
        string description = "hello", DateTimeOffset? timestamp = null, string configToml = "[workflow]\ndataset = \"fewgenomes\"\n",
        IReadOnlyList<ConfigSnapshot>? snapshots = null)
    {
        var arGuid = Guid.NewGuid().ToString();
        var configPath = Deployment.Configs.PathFor(arGuid);
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
            Jobs = [new JobSpec { Index = 0, Name = "driver", Commands = ["echo driver"], Image = "registry.example.org/approved/driver:1", MemoryBytes = 1L << 20 }],
        };
        return await Deployment.RunLog.AppendAsync(new Core.Log.RunSubmission(run, configToml, driver));
    }

    /// <summary>
    /// A batch the run's driver submits, run by the executor: "write" makes a file and "read" (which
    /// reads it, so depends on it) runs <paramref name="secondCommands"/>.
    /// </summary>
    public async Task<long> AddSubBatchAsync(RunRecord run, params string[] secondCommands)
    {
        var id = await Deployment.Batches.SubmitAsync(new BatchSpec
        {
            Name = "hello sub-batch",
            ArGuid = run.ArGuid,
            ConfigPath = run.ConfigPath,
            TmpRoot = Path.Combine(HomePath, "tmp"),
            Attributes = RunAuthority.RunAttributes(run),
            Jobs =
            [
                new JobSpec { Index = 0, Name = "write", Commands = ["echo Hello > {{ar:0:out}}"], Image = "registry.example.org/approved/base:1", MemoryBytes = 1L << 20 },
                new JobSpec
                {
                    Index = 1, Name = "read", Image = "registry.example.org/approved/base:1", MemoryBytes = 1L << 20,
                    Commands = ["cat {{ar:0:out}}", .. secondCommands],
                },
            ],
        });
        Deployment.Executor.Wake();
        return id;
    }

    public Task<JobInfo> WaitForJobAsync(long batchId, int jobId, JobState state) => Executor.WaitForJobAsync(batchId, jobId, state);

    public BatchInfo WaitForBatch(long batchId) => Executor.WaitForBatch(batchId);

    /// <summary>The folder of a dataset's web bucket on the local backend.</summary>
    public string WebBucket(string dataset, string ns) => Deployment.Buckets.Locate($"cpg-{dataset}-{ns}-web");

    public void Dispose() => Executor.Dispose();
}
