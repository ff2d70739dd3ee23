using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>What a waiting client reports for a batch that did not succeed, from batches the real executor ran.</summary>
public sealed class BatchOutcomeTests : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task A_failed_batch_names_the_jobs_that_failed_and_why_but_not_those_cancelled_after_them()
    {
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, "exit 3"),
            TestHome.Job(1, "echo child") with { DependsOn = [0] },
            TestHome.Job(2, "echo never") with { Shell = "no-such-shell-here" },
            TestHome.Job(3, "true"));
        var batch = _home.WaitForBatch(id);

        var failure = (await BatchOutcome.FailureAsync(_home.Store, batch))!;

        Assert.Equal(("BatchFailed", ErrorKind.InvalidResult), (failure.ErrorId, failure.Kind));
        Assert.Equal(batch, failure.Target);
        Assert.Contains($"batch {id} 'test' failed: job 1 'job0' (exit 3); job 3 'job2' (StartFailed: ", failure.Message);
        Assert.Contains("no-such-shell-here", failure.Message);
        Assert.DoesNotContain("job1", failure.Message);
        Assert.Contains($"Get-BatchJobLog -BatchId {id} -JobId 1", failure.Message);
        var jobs = await _home.Store.GetJobsAsync(id);
        Assert.Equal(["Failed (exit 3)", "Cancelled (ParentFailed)", "Failed (StartFailed)", "Succeeded"], jobs.Select(JobOutcome.State));
        Assert.Equal([(string?)"exit 3", "ParentFailed", jobs[2].Reason, null], jobs.Select(JobOutcome.Why));
    }

    [Fact]
    public async Task A_succeeded_batch_has_no_failure_and_a_cancelled_one_says_so()
    {
        var fine = await _home.SubmitAndWakeAsync(TestHome.Job(0, "true"));
        Assert.Null(await BatchOutcome.FailureAsync(_home.Store, _home.WaitForBatch(fine)));

        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var stopped = await _home.SubmitAndWakeAsync(TestHome.Job(0, gate.WaitCommand), TestHome.Job(1, "true") with { DependsOn = [0] });
        await _home.WaitForJobAsync(stopped, 1, JobState.Running);
        await _home.Store.RequestCancelAsync(stopped);
        _home.Client.Wake();

        var failure = (await BatchOutcome.FailureAsync(_home.Store, _home.WaitForBatch(stopped)))!;

        Assert.Equal(("BatchCancelled", ErrorKind.OperationStopped), (failure.ErrorId, failure.Kind));
        Assert.Contains("2 of 2 job(s) not run to the end", failure.Message);
    }
}
