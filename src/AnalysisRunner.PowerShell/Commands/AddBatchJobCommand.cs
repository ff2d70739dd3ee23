using System.Collections;
using System.Management.Automation;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Building;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Adds a job to a batch. Its resources ($job.Out, $job.Resource('vcf')) become files other jobs can read.</summary>
[Cmdlet(VerbsCommon.Add, "BatchJob")]
[OutputType(typeof(JobBuilder))]
public sealed class AddBatchJobCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public BatchBuilder? Batch { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Image { get; set; }

    /// <summary>The shell that runs the job's commands (sh, zsh, /bin/dash…); bash when not given.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Shell { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Cpu { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Memory { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Storage { get; set; }

    [Parameter]
    public SwitchParameter Preemptible { get; set; }

    [Parameter]
    public Hashtable? Attributes { get; set; }

    [Parameter]
    public Hashtable? Environment { get; set; }

    /// <summary>Jobs that must finish first, for ordering without a file.</summary>
    [Parameter]
    public JobBuilder[] DependsOn { get; set; } = [];

    /// <summary>Run even if a parent failed or was cancelled (for clean-up).</summary>
    [Parameter]
    public SwitchParameter AlwaysRun { get; set; }

    /// <summary>Seconds the job may run before it is stopped and marked Failed.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Timeout { get; set; }

    [Parameter]
    [ValidateRange(1, 100)]
    public int MaxAttempts { get; set; } = 1;

    protected override void Process()
    {
        var job = Batch!.AddJob(Name);
        if (Image is not null) job.Image = Image;
        if (Shell is not null) job.Shell = Shell;
        if (Cpu is not null) job.Cpu = ResourceQuantity.ParseCpu(Cpu);
        if (Memory is not null) job.MemoryBytes = ResourceQuantity.ParseMemory(Memory, job.Cpu);
        if (Storage is not null) job.StorageBytes = ResourceQuantity.ParseStorage(Storage);
        job.Preemptible = Preemptible;
        job.AlwaysRun = AlwaysRun;
        job.MaxAttempts = MaxAttempts;
        if (Timeout is { } seconds) job.Timeout = TimeSpan.FromSeconds(seconds);
        HashtableParameters.CopyInto(Attributes, job.Attributes);
        HashtableParameters.CopyInto(Environment, job.Environment);
        foreach (var parent in DependsOn) job.DependOn(parent);
        WriteObject(job);
    }
}
