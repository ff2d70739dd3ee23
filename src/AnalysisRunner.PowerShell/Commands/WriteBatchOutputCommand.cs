using System.Management.Automation;
using AnalysisRunner.Core.Batch.Building;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>After the job succeeds, copies one of its resources to a bucket path.</summary>
[Cmdlet(VerbsCommunications.Write, "BatchOutput")]
[OutputType(typeof(JobBuilder))]
public sealed class WriteBatchOutputCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public JobBuilder? Job { get; set; }

    /// <summary>The job's resource, e.g. $job.Out or $job.Resource('vcf').</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public JobResource? Resource { get; set; }

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        Job!.WriteOutput(Resource!, Destination);
        if (PassThru) WriteObject(Job);
    }
}
