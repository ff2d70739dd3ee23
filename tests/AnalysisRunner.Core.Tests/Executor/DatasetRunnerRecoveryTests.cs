using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// After a restart each runner of a per-dataset executor recovers the batches of its datasets and
/// only those, routed by the dataset recovery gives it (the verified run's, as attempts are routed),
/// and every runner is asked, even with none, so it can clean up what no batch wants.
/// </summary>
public sealed class DatasetRunnerRecoveryTests
{
    [Fact]
    public void Each_runner_recovers_the_batches_of_its_datasets_and_every_runner_is_asked()
    {
        var local = new RecordingRunner();
        var cluster = new RecordingRunner();
        var idle = new RecordingRunner();
        var runner = new DatasetJobRunner(local, new Dictionary<string, IJobRunner> { ["fewgenomes"] = cluster, ["quiet"] = idle }, [local, cluster, idle]);

        runner.Recover(new Dictionary<long, string?> { [1] = "fewgenomes", [2] = null, [3] = "unlisted", [4] = "fewgenomes" });

        Assert.Equal([2, 3], local.Asked!.Keys.Order());
        Assert.Equal([1, 4], cluster.Asked!.Keys.Order());
        Assert.Equal("fewgenomes", cluster.Asked[1]);
        Assert.NotNull(idle.Asked);
        Assert.Empty(idle.Asked!);
    }

    private sealed class RecordingRunner : IJobRunner
    {
        public IReadOnlyDictionary<long, string?>? Asked { get; private set; }

        public RunnerCapacity Capacity { get; } = new(new ResourceSize(1, 1), new ResourceSize(1, 1));

        public bool StartsAfterParents => false;

        public IReadOnlyList<RecoveredAttempt> Recover(IReadOnlyDictionary<long, string?> batches)
        {
            Asked = batches;
            return [];
        }

        public string ReserveLog(AttemptKey key) => throw new NotSupportedException();

        public void Start(AttemptLaunch launch, string log) => throw new NotSupportedException();

        public void Stop(AttemptKey key, string reason) => throw new NotSupportedException();

        public void Adopt(AttemptLaunch launch, RecoveredAttempt attempt) => throw new NotSupportedException();

        public void BatchFinished(long batchId) { }

        public void Dispose() { }
    }
}
