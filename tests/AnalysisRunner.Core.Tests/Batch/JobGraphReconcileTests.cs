using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;

namespace AnalysisRunner.Core.Tests.Batch;

/// <summary>
/// What a freshly loaded batch's rows are allowed to say: a Ready row is queued only where its parents
/// let it be, since whoever reaches a shared database can set a job Ready to run it ahead of its gate.
/// </summary>
public sealed class JobGraphReconcileTests
{
    /// <summary>Job 1 is a root (a gate still running); jobs 2 and 3 need it; job 4 needs job 5, which failed.</summary>
    private static BatchGraph Loaded(JobState second, JobState fourth) => JobGraph.Build(new BatchRow(7, false,
    [
        new JobRow(1, JobState.Running, 1, 1, false, false, 1, 1, []),
        new JobRow(2, second, 1, 1, false, false, 1, 1, [1]),
        new JobRow(3, JobState.Pending, 1, 1, false, false, 1, 1, [1]),
        new JobRow(4, fourth, 1, 1, false, false, 1, 1, [5]),
        new JobRow(5, JobState.Failed, 1, 1, false, false, 1, 1, []),
    ]));

    [Fact]
    public void A_job_set_ready_ahead_of_its_running_parent_waits_again_and_one_behind_a_failed_parent_is_cancelled()
    {
        var batch = Loaded(second: JobState.Ready, fourth: JobState.Ready);
        var changes = new TransitionSet();

        JobGraph.Reconcile(batch, changes);

        Assert.Empty(changes.NewlyReady);
        Assert.Equal((JobState.Pending, JobState.Cancelled), (batch.Job(2).State, batch.Job(4).State));
        Assert.Contains(changes.Jobs, t => t is { JobId: 2, State: JobState.Pending });
        Assert.Contains(changes.Jobs, t => t is { JobId: 4, State: JobState.Cancelled, Reason: "ParentFailed" });
    }

    [Fact]
    public void A_ready_job_whose_parents_let_it_is_queued_with_nothing_written()
    {
        var batch = JobGraph.Build(new BatchRow(8, false,
        [
            new JobRow(1, JobState.Succeeded, 1, 1, false, false, 1, 1, []),
            new JobRow(2, JobState.Ready, 1, 1, false, false, 1, 1, [1]),
            new JobRow(3, JobState.Ready, 1, 1, false, false, 1, 1, []),
        ]));
        var changes = new TransitionSet();

        JobGraph.Reconcile(batch, changes);

        Assert.Equal([2, 3], changes.NewlyReady.Select(job => job.JobId));
        Assert.Empty(changes.Jobs);
    }

    [Fact]
    public void Rows_that_cannot_be_a_graph_are_named_before_Build_would_fail_on_them()
    {
        static BatchRow Batch(params JobRow[] jobs) => new(9, false, [.. jobs]);
        static JobRow Job(int id, params int[] parents) => new(id, JobState.Pending, 1, 1, false, false, 1, 1, parents);

        Assert.Null(JobGraph.Malformed(Batch(Job(1), Job(2, 1))));
        Assert.Equal("job 2 is missing or out of order (found job 3)", JobGraph.Malformed(Batch(Job(1), Job(3, 1))));
        Assert.Equal("job 2 names job 5 as its parent", JobGraph.Malformed(Batch(Job(1), Job(2, 5))));
        Assert.Equal("job 1 names job 0 as its parent", JobGraph.Malformed(Batch(Job(1, 0))));
        Assert.Equal("job 2 names job 2 as its parent", JobGraph.Malformed(Batch(Job(1), Job(2, 2))));
        Assert.Throws<IndexOutOfRangeException>(() => JobGraph.Build(Batch(Job(1), Job(2, 5))));
    }
}
