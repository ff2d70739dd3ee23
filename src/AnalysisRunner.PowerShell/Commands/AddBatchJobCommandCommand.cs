using System.Management.Automation;
using AnalysisRunner.Core.Batch.Building;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Appends a bash command to a job; a job's commands run in order in one bash, stopping at the first failure.</summary>
[Cmdlet(VerbsCommon.Add, "BatchJobCommand")]
[OutputType(typeof(JobBuilder))]
public sealed class AddBatchJobCommandCommand : AnalysisRunnerCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public JobBuilder? Job { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] Command { get; set; } = [];

    /// <summary>Write the job back to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        foreach (var command in Command) Job!.AddCommand(command);
        if (PassThru) WriteObject(Job);
    }
}
