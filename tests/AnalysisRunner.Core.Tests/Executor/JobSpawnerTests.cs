using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Native;

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
        Assert.Equal(JobSpawner.ReapWait.UntilSpawn, JobSpawner.AfterWaitFailed(NativeMethods.ECHILD, anyRegistered: false));
        Assert.Equal(JobSpawner.ReapWait.Retry, JobSpawner.AfterWaitFailed(NativeMethods.ECHILD, anyRegistered: true));
        Assert.Equal(JobSpawner.ReapWait.Retry, JobSpawner.AfterWaitFailed(NativeMethods.EINTR, anyRegistered: true));
    }
}
