using System.Management.Automation;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Lists bucket objects, as gsutil ls: an object itself, or what is under a prefix (-Recurse: everything).</summary>
[Cmdlet(VerbsCommon.Get, "StorageItem")]
[OutputType(typeof(StorageEntry))]
public sealed class GetStorageItemCommand : StorageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BucketCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter]
    public SwitchParameter Recurse { get; set; }

    protected override void Process()
    {
        foreach (var path in Path)
        {
            var uri = ParsePath(path);
            foreach (var entry in Reader.GetItemsAsync(uri, Recurse, PipelineStopped).ToBlockingEnumerable())
                WriteObject(entry);
        }
    }
}
