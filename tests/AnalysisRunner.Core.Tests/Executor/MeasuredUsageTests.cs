using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// The executor records what each attempt's process used (rusage: CPU user+system of the shell and
/// every descendant it waited for, peak resident memory; wall time), unsandboxed through JobSpawner's
/// reaper and sandboxed through the launcher's answer, and the store gives it back per attempt and
/// for the job's latest attempt.
/// </summary>
public sealed class MeasuredUsageTests
{
    // A child process burns CPU (so descendants must be counted), then another holds 128 MB (dd's one
    // buffer, filled): more than the executor's own resident size, which Linux counts into an unsandboxed
    // job's maxrss (its shell is spawned sharing the executor's memory until exec), so this can only pass
    // if the job's own use is seen. dd rather than a shell variable: the same peak for a tenth of the CPU.
    private static readonly string[] Work =
    [
        "bash -c 'i=0; while (( i < 100000 )); do (( i++ )); done'",
        "dd if=/dev/zero of=/dev/null bs=128000000 count=1 status=none",
        "head -c 128000000 /dev/zero | wc -c",
    ];

    [Theory]
    [InlineData(SandboxMode.None)]
    [InlineData(SandboxMode.Bubblewrap)]
    public async Task Each_attempt_records_its_cpu_seconds_peak_memory_and_wall_time(string sandbox)
    {
        if (sandbox == SandboxMode.Bubblewrap && (BubblewrapSandbox.Find() is null || BubblewrapSandbox.FindLauncher() is null))
            throw new InvalidOperationException("This test needs bubblewrap (apt-get install bubblewrap) and the launcher built beside the tests (a C compiler at build time).");
        using var home = new TestHome(sandbox);
        var id = await home.SubmitAndWakeAsync(TestHome.Job(0, Work), TestHome.Job(1, "exit 4"));

        var batch = home.WaitForBatch(id, seconds: 120);

        Assert.Equal(BatchState.Failed, batch.State);
        Assert.Equal("128000000\n", home.Stdout(id, 1));
        var attempt = Assert.Single(await home.Store.GetAttemptsAsync(id, 1));
        Assert.True(attempt.CpuSeconds > 0.05, $"cpu {attempt.CpuSeconds}: the child's loop is counted");
        Assert.True(attempt.PeakMemoryBytes >= 128_000_000, $"peak {attempt.PeakMemoryBytes}: the shell held 128 MB");
        Assert.True(attempt.WallSeconds > 0 && attempt.WallSeconds <= (attempt.Ended - attempt.Started)!.Value.TotalSeconds + 1,
            $"wall {attempt.WallSeconds} within the attempt's recorded span");
        var job = (await home.Store.GetJobAsync(id, 1))!;
        Assert.Equal((attempt.CpuSeconds, attempt.PeakMemoryBytes, attempt.WallSeconds), (job.CpuSeconds, job.PeakMemoryBytes, job.WallSeconds));

        // A job that fails is measured too: it still used the machine.
        var failed = Assert.Single(await home.Store.GetAttemptsAsync(id, 2));
        Assert.Equal(4, failed.ExitCode);
        Assert.NotNull(failed.CpuSeconds);
        Assert.True(failed.PeakMemoryBytes > 0);
    }

    [Fact]
    public async Task A_job_that_never_started_has_no_measurement()
    {
        using var home = new TestHome();
        var id = await home.SubmitAndWakeAsync(TestHome.Job(0, "echo hi") with { Shell = "no-such-shell-here" });

        home.WaitForBatch(id);

        var attempt = Assert.Single(await home.Store.GetAttemptsAsync(id, 1));
        Assert.Null(attempt.CpuSeconds);
        Assert.Null(attempt.PeakMemoryBytes);
        Assert.Null((await home.Store.GetJobAsync(id, 1))!.CpuSeconds);
    }
}
