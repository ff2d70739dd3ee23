using AnalysisRunner.Core.Batch.Building;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>Validates a built batch against the executor's limits, stores it and wakes the executor.</summary>
public sealed class BatchSubmitter(Deployment deployment)
{
    /// <summary>Everything Submit checks, with nothing written: a refused batch leaves no trace.</summary>
    public BatchSpec Prepare(BatchBuilder batch)
    {
        if (batch.SubmittedBatchId is { } existing)
            throw new BatchValidationException("BatchAlreadySubmitted", ErrorKind.InvalidOperation, batch.Name,
                $"Batch '{batch.Name}' was already submitted as batch {existing}; start another with New-Batch.");
        var spec = batch.Build();
        // The runner says how big a job may be (this machine; a Slurm partition's largest node).
        var largest = deployment.Runner.Capacity.LargestJob;
        DagValidator.Validate(spec, largest.Cpu, largest.MemoryBytes);
        return spec;
    }

    public long Submit(BatchBuilder batch, BatchSpec spec)
    {
        // An executor starting (a runtime start, a fifth of a second) while the rows are written
        // is ready when they are; the wake after the commit is what makes it read them.
        deployment.Executor.Wake();
        var id = deployment.Batches.Submit(spec);
        batch.SubmittedBatchId = id;
        deployment.Executor.Wake();
        return id;
    }
}
