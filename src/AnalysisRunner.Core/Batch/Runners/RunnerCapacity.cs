namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>An amount of cpu and memory.</summary>
public sealed record ResourceSize(double Cpu, long MemoryBytes);

/// <summary>
/// What a job runner can give. LargestJob is the most one job may ask for: a batch with a bigger job
/// is refused at submit (this machine for local processes; a Slurm partition's largest node).
/// AtOnce is what the scheduler hands out to running jobs together (this machine; a cluster's share).
/// </summary>
public sealed record RunnerCapacity(ResourceSize LargestJob, ResourceSize AtOnce)
{
    /// <summary>One machine: a job may have all of it, and jobs share it.</summary>
    public static RunnerCapacity OneMachine(double cpu, long memoryBytes)
    {
        var size = new ResourceSize(cpu, memoryBytes);
        return new RunnerCapacity(size, size);
    }

    public bool CanEverFit(JobSpec job) => job.Cpu <= LargestJob.Cpu && job.MemoryBytes <= LargestJob.MemoryBytes;
}
