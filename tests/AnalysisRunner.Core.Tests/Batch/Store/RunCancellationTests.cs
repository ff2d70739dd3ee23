using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Batch.Store;

/// <summary>Stopping a run stops its whole tree: the driver batch and every batch submitted under its ar_guid.</summary>
public sealed class RunCancellationTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SqliteBatchStore _store;

    public RunCancellationTests() => _store = new SqliteBatchStore(new RunnerDatabase(new RunnerHome(_folder.Path)));

    public void Dispose() => _folder.Dispose();

    private long Submit(string? arGuid) => _store.Submit(new BatchSpec
    {
        Name = "b",
        TmpRoot = _folder.Combine("tmp"),
        ArGuid = arGuid,
        Jobs = [new JobSpec { Index = 0, Name = "j", Commands = ["true"] }],
    });

    [Fact]
    public void Cancelling_a_run_asks_to_cancel_its_driver_and_every_sub_batch_and_no_other()
    {
        var driver = Submit("run-1");
        var sub = Submit("run-1");
        var other = Submit("run-2");
        var outside = Submit(null);

        var cancelled = _store.RequestCancelRun("run-1");

        Assert.Equal([driver, sub], cancelled);
        Assert.True(_store.GetBatch(driver)!.CancelRequested);
        Assert.True(_store.GetBatch(sub)!.CancelRequested);
        Assert.False(_store.GetBatch(other)!.CancelRequested);
        Assert.False(_store.GetBatch(outside)!.CancelRequested);
    }

    [Fact]
    public void A_batch_a_cancelled_driver_submits_afterwards_lands_cancelled()
    {
        var driver = Submit("run-1");
        _store.RequestCancelRun("run-1");

        var late = Submit("run-1");

        Assert.True(_store.GetBatch(late)!.CancelRequested);
        Assert.True(_store.GetBatch(driver)!.CancelRequested);
    }

    [Fact]
    public void Cancelling_one_sub_batch_leaves_the_run_free_to_submit_more()
    {
        Submit("run-1");
        var sub = Submit("run-1");
        _store.RequestCancel(sub);

        Assert.False(_store.GetBatch(Submit("run-1"))!.CancelRequested);
    }

    [Fact]
    public void Cancelling_an_unknown_run_is_RunNotFound()
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => _store.RequestCancelRun("no-such-run"));

        Assert.Equal(("RunNotFound", ErrorKind.ObjectNotFound, "no-such-run"), (error.ErrorId, error.Kind, error.Target));
    }
}
