using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>A throwaway runner home; disposing stops its executor and deletes the folder.</summary>
public sealed class TestHome : IDisposable
{
    static TestHome()
    {
        // Read by the executor the client starts (it inherits our environment).
        Environment.SetEnvironmentVariable("AR_EXECUTOR_IDLE_SECONDS", "3");
        Environment.SetEnvironmentVariable("AR_EXECUTOR_KILL_GRACE_SECONDS", "2");
        Environment.SetEnvironmentVariable("AR_EXECUTOR_CPUS", "2");
    }

    public TestHome()
    {
        // Short and under /tmp: a Unix socket path must fit in 108 bytes.
        Root = Path.Combine("/tmp", "ar-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        Home = new RunnerHome(Root);
        Database = new RunnerDatabase(Home);
        Store = new SqliteBatchStore(Database);
        Client = new ExecutorClient(Home);
    }

    public string Root { get; }
    public RunnerHome Home { get; }
    public RunnerDatabase Database { get; }
    public SqliteBatchStore Store { get; }
    public ExecutorClient Client { get; }
    public string TmpRoot => Path.Combine(Root, "tmp");

    public long SubmitAndWake(params JobSpec[] jobs) => SubmitAndWake(Batch(jobs));

    public long SubmitAndWake(BatchSpec spec)
    {
        var id = Store.Submit(spec);
        Client.Wake();
        return id;
    }

    public BatchSpec Batch(params JobSpec[] jobs) => new() { Name = "test", TmpRoot = TmpRoot, Jobs = jobs };

    public static JobSpec Job(int index, params string[] commands) =>
        new() { Index = index, Name = "job" + index, Commands = commands, MemoryBytes = 1L << 20 };

    /// <summary>Waits until every job of the batch has finished (or fails the test with the executor log).</summary>
    public BatchInfo WaitForBatch(long batchId, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var batch = Store.GetBatch(batchId)!;
            if (batch.State != BatchState.Running) return batch;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"Batch {batchId} did not finish in {seconds}s. Executor log:\n{ExecutorLog()}");
    }

    public JobInfo WaitForJob(long batchId, int jobId, JobState state, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var job = Store.GetJob(batchId, jobId)!;
            if (job.State == state) return job;
            Thread.Sleep(25);
        }
        throw new TimeoutException($"Job {batchId}/{jobId} never became {state}. Executor log:\n{ExecutorLog()}");
    }

    public string Stdout(long batchId, int jobId, int attempt = 1) =>
        File.ReadAllText(Store.GetLogPaths(batchId, jobId, attempt).Stdout);

    public string ExecutorLog() => File.Exists(Home.ExecutorLogPath) ? File.ReadAllText(Home.ExecutorLogPath) : "(no executor.log)";

    public void Dispose()
    {
        Client.Stop(TimeSpan.FromSeconds(20));
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
