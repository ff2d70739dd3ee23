using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Watching;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>Waiting in Core: on the executor's signals, reporting progress only when asked, cancelled at once.</summary>
public sealed class BatchWatcherTests : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task A_wait_without_progress_reports_only_the_end_and_one_with_progress_reports_on_the_way()
    {
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, "true"), TestHome.Job(1, gate.WaitCommand) with { DependsOn = [0] });
        await _home.WaitForJobAsync(id, 2, JobState.Running);

        // The timeout only turns a hang into a failure that names itself; nothing here is timed.
        await using var withProgress = _home.Watcher.WatchAsync([id], new WatchOptions { Progress = true, Timeout = TimeSpan.FromSeconds(120) }).GetAsyncEnumerator();
        Assert.True(await withProgress.MoveNextAsync());
        Assert.False(withProgress.Current.Complete);
        Assert.Equal((2, 1, 1), (withProgress.Current.TotalJobs, withProgress.Current.DoneJobs, withProgress.Current.RunningJobs));
        var withoutProgress = Task.Run(async () => await _home.Watcher.WatchAsync([id], new WatchOptions()).ToListAsync());
        gate.Open();

        var reports = await withoutProgress;
        Assert.Single(reports);
        Assert.True(reports[0].Complete);
        var last = withProgress.Current;
        while (await withProgress.MoveNextAsync()) last = withProgress.Current;
        Assert.True(last.Complete);
        Assert.Equal(BatchState.Succeeded, last.Batches[0].State);
    }

    [Fact]
    public async Task A_cancelled_wait_ends_at_once_with_or_without_an_executor_to_follow()
    {
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var followed = await _home.SubmitAndWakeAsync(TestHome.Job(0, gate.WaitCommand));
        await _home.WaitForJobAsync(followed, 1, JobState.Running);
        using var other = new TestHome();
        var unfollowed = await other.Store.SubmitAsync(other.Batch(TestHome.Job(0, "true")));   // no executor is woken for it

        foreach (var (watcher, id) in new[] { (_home.Watcher, followed), (other.Watcher, unfollowed) })
        {
            using var cancel = new CancellationTokenSource();
            var wait = Task.Run(async () => await watcher.WatchAsync([id], new WatchOptions(), cancel.Token).ToListAsync());
            Assert.False(wait.IsCompleted, "the batch has not ended, so the wait goes on");
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        }
    }

    [Fact]
    public async Task A_wait_past_its_timeout_is_WaitTimedOut_and_the_batch_goes_on()
    {
        using var gate = new JobGate(Path.Combine(_home.Root, "gate"));
        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, gate.WaitCommand));

        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(async () =>
            await _home.Watcher.WatchAsync([id], new WatchOptions { Timeout = TimeSpan.FromSeconds(1) }).ToListAsync());

        Assert.Equal("WaitTimedOut", error.ErrorId);
        Assert.Equal(BatchState.Running, (await _home.Store.GetBatchAsync(id))!.State);
    }
}
