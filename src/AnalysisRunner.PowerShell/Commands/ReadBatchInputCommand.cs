using System.Collections;
using System.Management.Automation;
using AnalysisRunner.Core.Batch.Building;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Declares a bucket file (or a group of files, such as a cram and its index) that jobs read.</summary>
[Cmdlet(VerbsCommunications.Read, "BatchInput", DefaultParameterSetName = FileSet)]
[OutputType(typeof(InputResource))]
public sealed class ReadBatchInputCommand : AnalysisRunnerCmdlet
{
    private const string FileSet = "File";
    private const string GroupSet = "Group";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public BatchBuilder? Batch { get; set; }

    /// <summary>gs://bucket/key (a bucket of the run's dataset) or an absolute path.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Member name → path, e.g. @{ cram = 'gs://…/x.cram'; crai = 'gs://…/x.cram.crai' }.</summary>
    [Parameter(Mandatory = true, ParameterSetName = GroupSet)]
    public Hashtable? Group { get; set; }

    protected override void Process()
    {
        if (ParameterSetName == FileSet)
        {
            WriteObject(Batch!.ReadInput(Path));
            return;
        }
        WriteObject(Batch!.ReadInputGroup(Group!));
    }
}
