using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Slurm;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Tests.Slurm;

/// <summary>Reading a Slurm job's output files as a job that may have replaced them would have it.</summary>
public sealed class SlurmJobLogsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ar-slurmlogs-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>One finished job whose first attempt's output stem is <paramref name="stem"/>.</summary>
    private sealed class OneJob(string stem) : IBatchStore
    {
        public Task<long> SubmitAsync(BatchSpec spec, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) => Task.FromResult<BatchInfo?>(null);
        public Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<BatchInfo>>([]);
        public Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<JobInfo>>([Job(batchId, 1)]);
        public Task<JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
            Task.FromResult<JobInfo?>(Job(batchId, jobId));
        public Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<JobAttempt>>([new JobAttempt(batchId, jobId, 1) { ExitCode = 0, Ended = DateTimeOffset.UtcNow, RunnerLog = stem }]);
        public Task RemoveAsync(long batchId, CancellationToken cancellationToken = default) => Task.CompletedTask;

        private static JobInfo Job(long batchId, int jobId) =>
            new() { BatchId = batchId, JobId = jobId, Name = "j", State = JobState.Succeeded, Attempt = 1, Command = "true" };
    }

    private RunnerHome Home => new(Path.Combine(_root, "home"));

    /// <summary>Where the runner puts the output of batch 1's job 1, attempt 1.</summary>
    private string Stem()
    {
        var stem = SlurmLayout.LogStem(Home, new AttemptKey(1, 1, 1));
        Directory.CreateDirectory(Path.GetDirectoryName(stem)!);
        return stem;
    }

    private async Task<List<string>> Read(string stem)
    {
        var logs = new SlurmJobLogs(Home, new OneJob(stem));
        var lines = new List<string>();
        await foreach (var line in logs.ReadAsync(1, 1, 1, LogStream.Stdout)) lines.Add(line);
        return lines;
    }

    [Fact]
    public async Task A_job_output_file_is_read()
    {
        var stem = Stem();
        await File.WriteAllTextAsync(stem + ".out", "hello\nworld\n");
        Assert.Equal(["hello", "world"], await Read(stem));
    }

    /// <summary>
    /// Red team: a job that reaches PostgreSQL rewrites its own attempt's recorded log (attempts.log) to
    /// the stem of another dataset's job, then asks for its own job's log. The output read is its own
    /// attempt's, where the runner put it, whatever the row says.
    /// </summary>
    [Fact]
    public async Task A_recorded_stem_pointing_at_another_batchs_output_reads_the_attempts_own()
    {
        var theirs = SlurmLayout.LogStem(Home, new AttemptKey(2, 1, 1));
        Directory.CreateDirectory(Path.GetDirectoryName(theirs)!);
        await File.WriteAllTextAsync(theirs + ".out", "another dataset's output\n");
        await File.WriteAllTextAsync(Stem() + ".out", "own output\n");

        Assert.Equal(["own output"], await Read(theirs));
    }

    [Fact]
    public async Task An_output_file_the_job_replaced_by_a_link_to_a_key_is_not_read_through()
    {
        var key = Path.Combine(_root, "run-token.key");
        await File.WriteAllTextAsync(key, "secret key\n");
        var stem = Stem();
        File.CreateSymbolicLink(stem + ".out", key);
        var refused = await Assert.ThrowsAnyAsync<IOException>(() => Read(stem));
        Assert.Contains("symbolic link", refused.Message);
    }

    [Fact]
    public async Task An_output_file_not_written_yet_reads_as_empty()
    {
        Assert.Empty(await Read(Stem()));
    }
}
