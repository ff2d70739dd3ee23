using System.Diagnostics;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Native;
using AnalysisRunner.Core.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// What must hold when things go wrong underneath a batch: a destination that fills up, an executor
/// killed while it copies an output, a database that lost its last commits or was damaged.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class DurabilityTests : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    private string Bucket(string key) => Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-main", key);

    /// <summary>Outside a run the batch's author must be a member where it writes (the home's default registry names this OS account).</summary>
    private BatchSpec Authored(params JobSpec[] jobs) =>
        _home.Batch(jobs) with { Attributes = new Dictionary<string, string> { ["author"] = Environment.UserName } };

    [Fact]
    public async Task A_full_destination_fails_the_job_and_leaves_the_previous_file_whole_and_no_temporary_file()
    {
        var folder = Path.GetDirectoryName(Bucket("results/out.bin"))!;
        Directory.CreateDirectory(folder);
        using var tmpfs = SmallTmpfs.Mount(folder, "1m");
        File.WriteAllText(Bucket("results/out.bin"), "the good result\n");

        var id = await _home.SubmitAndWakeAsync(Authored(
            TestHome.Job(0, $"head -c 2000000 /dev/zero > {ResourcePlaceholder.ForJob(0, "big")}") with
            {
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "big"), "gs://cpg-fewgenomes-main/results/out.bin")],
            }));
        var batch = _home.WaitForBatch(id);
        var job = (await _home.Store.GetJobAsync(id, 1))!;

        Assert.Equal(BatchState.Failed, batch.State);
        Assert.StartsWith("OutputCopyFailed", job.Reason);
        Assert.Equal("the good result\n", File.ReadAllText(Bucket("results/out.bin")));
        Assert.Equal(["out.bin"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task An_executor_killed_during_an_output_copy_leaves_the_previous_file_and_recovery_finishes_the_copy()
    {
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.GetDirectoryName(Bucket("results/out.txt"))!).FullName, "out.txt"), "good\n");
        // The job's resource is a FIFO: the executor's copy blocks on it until this test writes, so the
        // kill lands in the middle of the copy every time.
        var id = await _home.SubmitAndWakeAsync(Authored(
            TestHome.Job(0, $"mkfifo {ResourcePlaceholder.ForJob(0, "out")}") with
            {
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "out"), "gs://cpg-fewgenomes-main/results/out.txt")],
            }));
        var fifo = Path.Combine(_home.TmpRoot, id.ToString(), "1.out");
        var folder = Path.GetDirectoryName(Bucket("results/out.txt"))!;
        Assert.True(_home.WaitUntil(() => File.Exists(fifo), 60, id));
        using (var watch = new DirectoryWatch([folder], modified: true))
        {
            using (var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write))   // waits for the copy to open it
            {
                writer.Write("partial\n"u8);
                writer.Flush();
                // Waits until the copy is under way: a file of its own beside the destination, or the destination itself changed.
                Assert.True(_home.WaitUntil(() => Directory.EnumerateFiles(folder).Any(f => f != Bucket("results/out.txt"))
                    || new FileInfo(Bucket("results/out.txt")).Length != "good\n".Length, 60));
                _home.KillExecutor();
            }
            Assert.Equal("good\n", File.ReadAllText(Bucket("results/out.txt")));
        }

        _home.Client.Wake();
        using (var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write))   // the recovering executor copies again
            writer.Write("complete\n"u8);
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal("complete\n", File.ReadAllText(Bucket("results/out.txt")));
        Assert.Equal(["out.txt"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_job_the_database_shows_pending_but_the_ledger_shows_finished_does_not_run_again()
    {
        var ran = Path.Combine(_home.Root, "ran.txt");
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, $"echo 0 >> {ShellQuoting.Quote(ran)}"),
            TestHome.Job(1, $"echo 1 >> {ShellQuoting.Quote(ran)}") with { DependsOn = [0] },
            TestHome.Job(2, $"echo 2 >> {ShellQuoting.Quote(ran)}") with { DependsOn = [1] });
        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(id).State);
        _home.Client.Stop();

        // As if the database lost every commit after the submit: the batch running, its jobs waiting.
        LoseCommits(id, "UPDATE jobs SET state = CASE job_id WHEN 1 THEN 'Ready' ELSE 'Pending' END, started = NULL, ended = NULL, exit_code = NULL WHERE batch_id = @id");
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal(["0", "1", "2"], File.ReadAllLines(ran));
        Assert.All((await _home.Store.GetJobsAsync(id)), job => Assert.Equal((JobState.Succeeded, 1, (int?)0), (job.State, job.Attempt, job.ExitCode)));
        foreach (var jobId in new[] { 1, 2, 3 })
            Assert.Equal([(1, (int?)0)], (await _home.Logs.GetAttemptsAsync(id, jobId)).Select(a => (a.Attempt, a.ExitCode)));
        Assert.Equal("", _home.Stdout(id, 3));
    }

    [Fact]
    public async Task Attempt_numbers_go_on_from_the_ledger_when_the_database_lost_a_retry()
    {
        var marker = Path.Combine(_home.Root, "failed-once");
        var ran = Path.Combine(_home.Root, "ran.txt");
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, $"echo $AR_ATTEMPT >> {ShellQuoting.Quote(ran)}",
            $"if [ ! -e {ShellQuoting.Quote(marker)} ]; then touch {ShellQuoting.Quote(marker)}; exit 3; fi", "echo attempt $AR_ATTEMPT")
            with { Preemptible = true, MaxAttempts = 3 });
        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(id).State);
        _home.Client.Stop();
        LoseCommits(id, "UPDATE jobs SET state = 'Running', attempt = 1, exit_code = NULL WHERE batch_id = @id");
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal((JobState.Succeeded, 2), ((await _home.Store.GetJobAsync(id, 1))!.State, (await _home.Store.GetJobAsync(id, 1))!.Attempt));
        Assert.Equal([(1, (int?)3), (2, 0)], (await _home.Logs.GetAttemptsAsync(id, 1)).Select(a => (a.Attempt, a.ExitCode)));
        Assert.Equal("attempt 2\n", _home.Stdout(id, 1, attempt: 2));
        Assert.Equal(["1", "2"], File.ReadAllLines(ran));
    }

    /// <summary>Puts batch <paramref name="id"/> back as it was before its last commits: running, no attempts recorded, its jobs as <paramref name="jobs"/> sets them.</summary>
    private void LoseCommits(long id, string jobs)
    {
        using var connection = _home.Database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE batches SET state = 'Running', completed = NULL WHERE id = @id; {jobs}; DELETE FROM attempts WHERE batch_id = @id;";
        command.Parameters.AddWithValue("@id", id);
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task A_truncated_wal_after_a_kill_never_runs_a_finished_job_again()
    {
        var ran = Path.Combine(_home.Root, "ran.txt");
        var gate = Path.Combine(_home.Root, "gate");
        var started = Path.Combine(_home.Root, "last-started");
        var jobs = Enumerable.Range(0, 30)
            .Select(i => TestHome.Job(i, $"echo {i} >> {ShellQuoting.Quote(ran)}") with { DependsOn = i == 0 ? [] : [i - 1] })
            .Append(TestHome.Job(30, $"touch {ShellQuoting.Quote(started)}", $"until [ -e {ShellQuoting.Quote(gate)} ]; do sleep 0.1; done",
                $"echo 30 >> {ShellQuoting.Quote(ran)}") with { DependsOn = [29] })
            .ToArray();
        // Nothing in this process keeps the database open: the last connection to close checkpoints the WAL away.
        var id = await _home.Store.SubmitAsync(_home.Batch(jobs));
        SqliteConnection.ClearAllPools();
        _home.Client.Wake();
        // Killed once the last job's shell runs (so every other job has ended and this one was spawned): a kill
        // between its start line and its spawn would rightly run it again as attempt 2, which is not this test.
        Assert.True(_home.WaitUntil(() => File.Exists(started) && File.ReadAllLines(ran).Length == 30, 120), _home.ExecutorLog());
        _home.KillExecutor();
        var wal = _home.Home.DatabasePath + "-wal";
        Assert.True(new FileInfo(wal).Length > 4096, "the WAL holds the batch's transitions");
        using (var file = new FileStream(wal, FileMode.Open, FileAccess.Write)) file.SetLength(file.Length / 2);
        File.WriteAllText(gate, "");

        _home.Client.Wake();
        var batch = _home.WaitForBatch(id, seconds: 120);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal(Enumerable.Range(0, 31).Select(i => i.ToString()), File.ReadAllLines(ran));
        Assert.All((await _home.Store.GetJobsAsync(id)), job => Assert.Equal(1, job.Attempt));
    }

    [Fact]
    public async Task A_damaged_database_is_reported_as_damaged_naming_the_file_not_as_a_missing_batch()
    {
        var id = await _home.Store.SubmitAsync(_home.Batch(TestHome.Job(0, "true")));
        SqliteConnection.ClearAllPools();
        using (var file = new FileStream(_home.Home.DatabasePath, FileMode.Open, FileAccess.Write))
            file.Write(new byte[100]);   // the header: "SQLite format 3" is gone

        var error = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => _home.Store.GetBatchAsync(id));

        Assert.Equal("DatabaseDamaged", error.ErrorId);
        Assert.Contains(_home.Home.DatabasePath, error.Message);
        Assert.Contains("Restore it from a backup", error.Message);
    }

    [Fact]
    public async Task An_executor_that_starts_after_an_unclean_stop_checks_the_database_and_refuses_a_damaged_one()
    {
        var id = await _home.Store.SubmitAsync(_home.Batch(Enumerable.Range(0, 200).Select(i => TestHome.Job(i, "true")).ToArray()));
        SqliteConnection.ClearAllPools();
        // A page in the middle of the jobs table overwritten, and a pid file left as a killed executor leaves it.
        using (var connection = new SqliteConnection($"Data Source={_home.Home.DatabasePath}"))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }
        SqliteConnection.ClearAllPools();
        var length = new FileInfo(_home.Home.DatabasePath).Length;
        using (var file = new FileStream(_home.Home.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            file.Position = length / 2 / 4096 * 4096;
            file.Write(Enumerable.Repeat((byte)0x5A, 4096).ToArray());
        }
        File.WriteAllText(Path.Combine(_home.Root, "executor.pid"), "999999");

        _home.Client.Wake();
        Assert.True(Core.Batch.Execution.ExecutorPresence.WaitUntil(_home.Home,
            () => _home.ExecutorLog().Contains("DatabaseDamaged") && !ExecutorClient.IsRunning(_home.Home), TimeSpan.FromSeconds(60)), _home.ExecutorLog());

        var error = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => _home.Store.GetBatchAsync(id));
        Assert.Equal("DatabaseDamaged", error.ErrorId);
        Assert.Contains(_home.Home.DatabasePath, error.Message);
    }
}

/// <summary>A tmpfs of a given size mounted over a folder (the tests run as root), unmounted on dispose.</summary>
internal sealed class SmallTmpfs : IDisposable
{
    private readonly string _folder;

    private SmallTmpfs(string folder) => _folder = folder;

    public static SmallTmpfs Mount(string folder, string size)
    {
        Run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", folder);
        return new SmallTmpfs(folder);
    }

    public void Dispose() => Run("umount", _folder);

    private static void Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed (this test mounts a tmpfs, as root): {error}");
    }
}
