using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Batch.Watching;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

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

    /// <param name="sandbox">
    /// [executor] sandbox for this home. The executor tests hold jobs at gates and leave markers in the
    /// home, which a sandboxed job cannot see, so they run unsandboxed ("none"); SandboxTests run "auto".
    /// </param>
    // Short and under /tmp: a Unix socket path must fit in 108 bytes.
    public TestHome(string sandbox = "none")
        : this(Path.Combine("/tmp", "ar-" + Guid.NewGuid().ToString("N")[..12]), sandbox)
    {
    }

    /// <summary>Over a home another fixture has laid out (a registry), which this one then owns and deletes.</summary>
    public TestHome(string root, string sandbox)
    {
        Root = root;
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "settings.toml"), $"[executor]\nsandbox = \"{sandbox}\"\n");
        Home = new RunnerHome(Root);
        Database = new RunnerDatabase(Home);
        Store = new SqliteBatchStore(Database);
        Client = new ExecutorClient(Home);
        Logs = new LocalJobLogs(Home, Store);
        Watcher = new BatchWatcher(Home, Store);
    }

    public string Root { get; }
    public RunnerHome Home { get; }
    public RunnerDatabase Database { get; }
    public SqliteBatchStore Store { get; }
    public ExecutorClient Client { get; }
    public IJobLogReader Logs { get; }
    public IBatchWatcher Watcher { get; }
    public string TmpRoot => Path.Combine(Root, "tmp");

    public Task<long> SubmitAndWakeAsync(params JobSpec[] jobs) => SubmitAndWakeAsync(Batch(jobs));

    public async Task<long> SubmitAndWakeAsync(BatchSpec spec)
    {
        var id = await Store.SubmitAsync(spec);
        Client.Wake();
        return id;
    }

    public BatchSpec Batch(params JobSpec[] jobs) => new() { Name = "test", TmpRoot = TmpRoot, Jobs = jobs };

    /// <summary>This home with its batches in <paramref name="database"/> ([batches] database), opened afresh.</summary>
    public Deployment WithBatchesIn(string database)
    {
        File.AppendAllText(Home.SettingsPath, $"\n[batches]\ndatabase = '{database}'\n");
        return Deployment.Open(Home);
    }

    /// <summary>
    /// A gate for a job: <c>cat</c> of this FIFO blocks until the test opens it for writing (which returns
    /// once the job has it open, so the job is running) and ends when the test closes it.
    /// </summary>
    public string Gate()
    {
        var fifo = Path.Combine(Root, "gate-" + Guid.NewGuid().ToString("N")[..8]);
        System.Diagnostics.Process.Start("mkfifo", fifo)!.WaitForExit();
        return fifo;
    }

    public static JobSpec Job(int index, params string[] commands) =>
        new() { Index = index, Name = "job" + index, Commands = commands, MemoryBytes = 1L << 20 };

    /// <summary>Waits (on the executor's signals) until the batch has finished, or fails the test with the executor log.</summary>
    public BatchInfo WaitForBatch(long batchId, int seconds = 60)
    {
        try
        {
            return Watcher.WatchAsync([batchId], new WatchOptions { Timeout = TimeSpan.FromSeconds(seconds) }).ToBlockingEnumerable().Last().Batches[0];
        }
        catch (AnalysisRunnerException timedOut) when (timedOut.ErrorId == "WaitTimedOut")
        {
            throw new TimeoutException($"Batch {batchId} did not finish in {seconds}s. Executor log:\n{ExecutorLog()}", timedOut);
        }
    }

    public async Task<JobInfo> WaitForJobAsync(long batchId, int jobId, JobState state, int seconds = 30)
    {
        JobInfo? job = null;
        if (await WaitUntilAsync(async () => (job = (await Store.GetJobAsync(batchId, jobId))!).State == state, seconds, batchId)) return job!;
        throw new TimeoutException($"Job {batchId}/{jobId} never became {state}. Executor log:\n{ExecutorLog()}");
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, waking on events only: the executor's change
    /// signals and writes in the home and the batch's log folder (re-armed at most every 2 s in case
    /// a folder appeared after the watch was set). False after <paramref name="seconds"/>.
    /// </summary>
    public bool WaitUntil(Func<bool> condition, int seconds, long? batchId = null)
    {
        // Completed when it returns: nothing in it awaits anything that is not already done.
        var waited = WaitUntilAsync(() => Task.FromResult(condition()), seconds, batchId);
        return waited.IsCompleted ? waited.Result : throw new InvalidOperationException("WaitUntil's condition is synchronous.");
    }

    /// <inheritdoc cref="WaitUntil"/>
    public async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, int seconds, long? batchId = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            using var signals = ExecutorSignals.TryConnect(Home, changes: true);
            var folders = new List<string> { Root, Home.LogsDirectory };
            if (batchId is { } id) folders.Add(Path.Combine(Home.LogsDirectory, id.ToString()));
            using var watch = new DirectoryWatch(folders, modified: true);
            if (await condition()) return true;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            watch.Wait(left < TimeSpan.FromSeconds(2) ? left : TimeSpan.FromSeconds(2), signals?.Handle);
        }
    }

    /// <summary>What one attempt wrote to stdout, each line ending in a newline.</summary>
    public string Stdout(long batchId, int jobId, int attempt = 1) => Read(batchId, jobId, attempt, LogStream.Stdout);

    public string Stderr(long batchId, int jobId, int attempt = 1) => Read(batchId, jobId, attempt, LogStream.Stderr);

    private string Read(long batchId, int jobId, int attempt, LogStream stream) =>
        string.Concat(Logs.ReadAsync(batchId, jobId, attempt, stream).ToBlockingEnumerable().Select(line => line + "\n"));

    public string ExecutorLog() => File.Exists(Home.ExecutorLogPath) ? File.ReadAllText(Home.ExecutorLogPath) : "(no executor.log)";

    /// <summary>kill -9 of the running executor; returns once its lock is free.</summary>
    public void KillExecutor()
    {
        var pid = ExecutorClient.RunningProcessId(Home) ?? throw new InvalidOperationException("No executor is running.");
        using var process = ProcessHandle.TryOpen(pid);
        ProcessSignals.Signal(pid, ProcessSignals.Kill);
        process?.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(ExecutorPresence.WaitUntil(Home, () => !ExecutorClient.IsRunning(Home), TimeSpan.FromSeconds(30)));
    }

    public void Dispose()
    {
        Client.Stop(TimeSpan.FromSeconds(20));
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
