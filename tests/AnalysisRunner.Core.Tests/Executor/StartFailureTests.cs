using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Log;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// Red team: what planning reads may have been written past the store (a run's entry set to JSON
/// null, a job row deleted). Whatever it throws fails that job at start, never the executor, which
/// would otherwise die on every start for every batch; only a database outage ends the loop.
/// </summary>
public sealed class StartFailureTests
{
    [Fact]
    public void An_entry_emptied_in_the_database_is_an_altered_entry_not_a_crash()
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => PostgresRunLog.ReadEntry("null", "a", "b", 0));

        Assert.Equal("AuditChainBroken", error.ErrorId);
    }

    [Fact]
    public void Anything_planning_throws_fails_the_job_except_a_database_outage()
    {
        Assert.True(BatchScheduler.IsStartFailure(new NullReferenceException()));
        Assert.True(BatchScheduler.IsStartFailure(new InvalidOperationException()));
        Assert.True(BatchScheduler.IsStartFailure(new AnalysisRunnerException("BatchRowMissing", ErrorKind.ObjectNotFound, "Job 1/1", "gone")));
        Assert.False(BatchScheduler.IsStartFailure(new AnalysisRunnerException("DatabaseUnavailable", ErrorKind.ResourceUnavailable, null, "down")));
        Assert.False(BatchScheduler.IsStartFailure(new OutOfMemoryException()));
    }
}
