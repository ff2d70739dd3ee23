using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Slurm;

/// <summary>
/// Jobs as Slurm jobs on the cluster this machine submits to: settings name "slurm". What one job may
/// ask for is the partition's largest node; what the scheduler hands out at once is far more than the
/// partition has, so Slurm, not the runner, queues the ready frontier.
/// </summary>
internal sealed class SlurmRunnerBackend(RunnerHome home, SlurmSettings settings, IBatchStore store, ISlurmCommands slurm) : IJobRunnerBackend
{
    public const string SettingsName = "slurm";

    /// <summary>How many partitions' worth of jobs may be queued in Slurm at once.</summary>
    private const int QueuedPartitions = 64;

    private readonly Lazy<RunnerCapacity> _capacity = new(() => Detect(slurm, settings));

    public string Name => SettingsName;

    public RunnerCapacity Capacity => _capacity.Value;

    public IJobLogReader Logs { get; } = new SlurmJobLogs(home, store);

    IJobRunner IJobRunnerBackend.CreateRunner(ExecutorOptions options, IAttemptSink sink, TextWriter log) =>
        new SlurmJobRunner(home, Capacity, settings, slurm, sink, log);

    internal static RunnerCapacity Detect(ISlurmCommands slurm, SlurmSettings settings)
    {
        var nodes = slurm.Nodes(settings.Partition);
        const long MiB = 1024L * 1024;
        // The one node with the most cpus, then memory: a job that fits no single node is refused at submit.
        var largest = nodes.OrderByDescending(n => n.Cpus).ThenByDescending(n => n.MemoryMb).First();
        var biggestMemory = nodes.Where(n => n.Cpus >= largest.Cpus).Max(n => n.MemoryMb);
        return new RunnerCapacity(
            new ResourceSize(largest.Cpus, biggestMemory * MiB),
            new ResourceSize(nodes.Sum(n => (double)n.Cpus) * QueuedPartitions, nodes.Sum(n => n.MemoryMb) * MiB * QueuedPartitions));
    }
}
