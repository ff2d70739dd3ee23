using System.Management.Automation;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Deletes bucket objects, as gsutil rm (-Recurse: everything under a prefix). In main buckets it
/// asks first unless -Force or -Confirm:$false, and only access level full may delete there.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "StorageItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveStorageItemCommand : StorageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BucketCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter]
    public SwitchParameter Recurse { get; set; }

    /// <summary>Skip the extra question for main buckets.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private bool _yesToAll;
    private bool _noToAll;

    protected override void Process()
    {
        RefuseWritesOverServer("Remove-StorageItem");
        foreach (var path in Path)
        {
            var uri = ParsePath(path);
            var store = StoreFor(uri);
            foreach (var target in Run(StorageItems.ObjectsToRemoveAsync(store, uri, Recurse)))
            {
                if (!ShouldProcess(target.ToString(), "Remove storage object")) continue;
                if (store.AccessLevel != Core.AccessLevel.Test && !Force && !ConfirmTurnedOff &&
                    !ShouldContinue($"'{target}' is in a main bucket of {store.Dataset}: deleting it cannot be undone. Delete it?",
                        "Remove from a main bucket", ref _yesToAll, ref _noToAll))
                    continue;
                Run(store.DeleteAsync(target));
            }
        }
    }
}
