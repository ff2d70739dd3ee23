using AnalysisRunner.Core.Batch.Execution;

namespace AnalysisRunner.Core.Tests.Executor;

public sealed class JobSpawnerTests
{
    private const int EInval = 22;

    [Fact]
    public void An_unexpected_waitid_error_backs_off_instead_of_spinning()
    {
        Assert.Equal(JobSpawner.ReapWait.BackOff, JobSpawner.AfterWaitFailed(EInval, anyRegistered: true));
        Assert.Equal(JobSpawner.ReapWait.BackOff, JobSpawner.AfterWaitFailed(EInval, anyRegistered: false));
    }

    [Fact]
    public void No_children_sleeps_until_a_spawn_and_an_interrupted_wait_retries_at_once()
    {
        Assert.Equal(JobSpawner.ReapWait.UntilSpawn, JobSpawner.AfterWaitFailed(JobSpawner.EChild, anyRegistered: false));
        Assert.Equal(JobSpawner.ReapWait.Retry, JobSpawner.AfterWaitFailed(JobSpawner.EChild, anyRegistered: true));
        Assert.Equal(JobSpawner.ReapWait.Retry, JobSpawner.AfterWaitFailed(JobSpawner.EIntr, anyRegistered: true));
    }
}
