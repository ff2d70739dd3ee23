using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Core.Tests.Batch;

/// <summary>
/// JobGraph's rules for jobs started after their parents (a runner that holds them, as Slurm's
/// --dependency does): they are offered once their parents are with the runner, and their attempt
/// counts only once every parent has succeeded (ended, for AlwaysRun).
/// </summary>
public sealed class JobGraphAfterParentsTests
{
    /// <summary>Job 1 and 2 are roots; job 3 needs both; job 4 (AlwaysRun) needs job 1.</summary>
    private static BatchGraph Diamond(bool preemptibleParent = false, int childAttempts = 1) => JobGraph.Build(new BatchRow(5, false,
    [
        new JobRow(1, JobState.Running, 1, 2, preemptibleParent, false, 1, 1, []),
        new JobRow(2, JobState.Running, 1, 1, false, false, 1, 1, []),
        new JobRow(3, JobState.Pending, 1, childAttempts, true, false, 1, 1, [1, 2]),
        new JobRow(4, JobState.Pending, 1, 1, false, true, 1, 1, [1]),
    ]));

    /// <summary>What the scheduler does when it hands a job to a runner that holds it: Running, parents unfinished.</summary>
    private static void HandOver(JobNode job) => job.State = JobState.Running;

    [Fact]
    public void A_child_is_offered_to_a_holding_runner_once_its_other_parents_are_all_that_remain()
    {
        var batch = Diamond();
        var changes = new TransitionSet();

        JobGraph.Ended(batch.Job(2), 0, null, null, changes);

        Assert.Contains(batch.Job(3), changes.MayStartAfterParents);
        Assert.Equal(JobState.Pending, batch.Job(3).State);
        Assert.DoesNotContain(batch.Job(3), changes.NewlyReady);
    }

    [Fact]
    public void A_held_child_whose_parent_fails_is_stopped_and_cancelled_not_counted()
    {
        var batch = Diamond();
        HandOver(batch.Job(3));
        var changes = new TransitionSet();

        JobGraph.Ended(batch.Job(2), 3, null, null, changes);
        Assert.Contains(batch.Job(3), changes.Orphaned);
        Assert.Equal(JobState.Running, batch.Job(3).State);

        // Slurm cancels it (kill-on-invalid-dep), or the runner does when asked: either way it never ran.
        JobGraph.Ended(batch.Job(3), null, StopReasons.DependencyNeverSatisfied, null, changes);
        Assert.Equal(JobState.Cancelled, batch.Job(3).State);
        Assert.Contains(changes.Jobs, t => t is { JobId: 3, State: JobState.Cancelled, Reason: "ParentFailed" });
    }

    [Fact]
    public void A_held_child_that_ran_although_its_parent_failed_in_this_record_is_cancelled_not_succeeded()
    {
        // The parent exited 0 in Slurm (so afterok let the child go) but publishing its outputs failed.
        var batch = Diamond();
        HandOver(batch.Job(3));
        var changes = new TransitionSet();
        JobGraph.Ended(batch.Job(2), 0, null, null, changes);
        JobGraph.Ended(batch.Job(1), 0, null, "OutputCopyFailed: disk full", changes);

        JobGraph.Ended(batch.Job(3), 0, null, null, changes);

        Assert.Equal(JobState.Cancelled, batch.Job(3).State);
        Assert.False(batch.AllSucceeded);
    }

    [Fact]
    public void A_parent_tried_again_orphans_even_an_AlwaysRun_child_which_then_waits_for_it()
    {
        var batch = Diamond(preemptibleParent: true);
        HandOver(batch.Job(4));
        var changes = new TransitionSet();

        JobGraph.Ended(batch.Job(1), 1, null, null, changes);
        Assert.Equal(JobState.Ready, batch.Job(1).State);
        Assert.Equal(2, batch.Job(1).Attempt);
        // afterany would let it start on the failed attempt: it is stopped.
        Assert.Contains(batch.Job(4), changes.Orphaned);

        JobGraph.Ended(batch.Job(4), null, StopReasons.DependencyNeverSatisfied, null, changes);
        Assert.Equal(JobState.Pending, batch.Job(4).State);
        Assert.Equal(2, batch.Job(4).Attempt);
        Assert.DoesNotContain(batch.Job(4), changes.NewlyReady);

        JobGraph.Ended(batch.Job(1), 0, null, null, changes);
        Assert.Equal(JobState.Ready, batch.Job(4).State);
    }

    [Fact]
    public void An_interrupted_held_child_waits_for_its_parents_again_instead_of_becoming_ready()
    {
        var batch = Diamond();
        HandOver(batch.Job(3));
        var changes = new TransitionSet();

        JobGraph.Ended(batch.Job(3), null, StopReasons.Interrupted, null, changes);

        Assert.Equal(JobState.Pending, batch.Job(3).State);
        Assert.DoesNotContain(batch.Job(3), changes.NewlyReady);
    }

    [Fact]
    public void A_withdrawn_attempt_does_not_use_up_the_jobs_attempts()
    {
        var batch = Diamond(childAttempts: 2);
        HandOver(batch.Job(3));
        var changes = new TransitionSet();
        JobGraph.Ended(batch.Job(3), null, StopReasons.DependencyNeverSatisfied, null, changes);
        JobGraph.Ended(batch.Job(1), 0, null, null, changes);
        JobGraph.Ended(batch.Job(2), 0, null, null, changes);
        Assert.Equal(JobState.Ready, batch.Job(3).State);
        batch.Job(3).State = JobState.Running;

        // Attempt 2 is its first real one: a preemptible job with 2 attempts gets another.
        JobGraph.Ended(batch.Job(3), 1, null, null, changes);

        Assert.Equal(JobState.Ready, batch.Job(3).State);
        Assert.Equal(3, batch.Job(3).Attempt);
    }

    [Fact]
    public void A_cancel_of_the_batch_cancels_a_held_child_as_cancelled()
    {
        var batch = Diamond();
        HandOver(batch.Job(3));
        var changes = new TransitionSet();

        JobGraph.Ended(batch.Job(3), null, StopReasons.Cancelled, null, changes);

        Assert.Equal(JobState.Cancelled, batch.Job(3).State);
        Assert.Contains(changes.Jobs, t => t is { JobId: 3, State: JobState.Cancelled, Reason: StopReasons.Cancelled });
    }
}
