using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>An attempt the scheduler has handed to the runner: what it planned for it and the capacity it holds until it ends.</summary>
internal sealed class InFlight(JobNode node, AttemptPlan plan, ResourceSize reserved, BatchScheduler.FreeCapacity pool)
{
    /// <summary>The runner's capacity it was reserved from, and goes back to.</summary>
    public BatchScheduler.FreeCapacity Pool { get; } = pool;

    public JobNode Node { get; } = node;
    public AttemptPlan Plan { get; } = plan;
    public ResourceSize Reserved { get; } = reserved;
    public AttemptKey Key => Plan.Launch.Key;

    /// <summary>Its process has ended and it gave its capacity back; its outputs may still be being published.</summary>
    public bool Released { get; set; }
}
