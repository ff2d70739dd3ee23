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
        public long Submit(BatchSpec spec) => throw new NotSupportedException();
        public BatchInfo? GetBatch(long batchId) => null;
        public IReadOnlyList<BatchInfo> FindBatches(BatchQuery query) => [];
        public IReadOnlyList<JobInfo> GetJobs(long batchId) => [GetJob(batchId, 1)!];
        public JobInfo? GetJob(long batchId, int jobId) =>
            new() { BatchId = batchId, JobId = jobId, Name = "j", State = JobState.Succeeded, Attempt = 1, Command = "true" };
        public void RequestCancel(long batchId) { }
        public IReadOnlyList<JobAttempt> GetAttempts(long batchId, int jobId) =>
            [new JobAttempt(batchId, jobId, 1) { ExitCode = 0, Ended = DateTimeOffset.UtcNow, RunnerLog = stem }];
        public void Remove(long batchId) { }
    }

    private async Task<List<string>> Read(string stem)
    {
        var logs = new SlurmJobLogs(new RunnerHome(Path.Combine(_root, "home")), new OneJob(stem));
        var lines = new List<string>();
        await foreach (var line in logs.ReadAsync(1, 1, 1, LogStream.Stdout)) lines.Add(line);
        return lines;
    }

    [Fact]
    public async Task A_job_output_file_is_read()
    {
        var stem = Path.Combine(_root, "1.1");
        await File.WriteAllTextAsync(stem + ".out", "hello\nworld\n");
        Assert.Equal(["hello", "world"], await Read(stem));
    }

    [Fact]
    public async Task An_output_file_the_job_replaced_by_a_link_to_a_key_is_not_read_through()
    {
        var key = Path.Combine(_root, "run-token.key");
        await File.WriteAllTextAsync(key, "secret key\n");
        var stem = Path.Combine(_root, "1.1");
        File.CreateSymbolicLink(stem + ".out", key);
        var refused = await Assert.ThrowsAnyAsync<IOException>(() => Read(stem));
        Assert.Contains("symbolic link", refused.Message);
    }

    [Fact]
    public async Task An_output_file_not_written_yet_reads_as_empty()
    {
        Assert.Empty(await Read(Path.Combine(_root, "missing")));
    }
}
