using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Copies, as gsutil cp: a local file to a bucket, an object to a local file, or bucket to bucket;
/// -Recurse for folders and prefixes. Large copies show Write-Progress. Emits what was written.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "StorageItem", SupportsShouldProcess = true)]
[OutputType(typeof(StorageObjectInfo), typeof(FileInfo))]
public sealed class CopyStorageItemCommand : StorageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BucketCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>A bucket path or a local path; ending in '/' (or an existing folder) keeps the source's name.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(BucketCompleter))]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    [Parameter]
    public SwitchParameter Recurse { get; set; }

    /// <summary>Do not replace objects or files that already exist.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override void Process()
    {
        RefuseWritesOverServer("Copy-StorageItem");
        var destination = ParsePath(Destination);
        foreach (var path in Path)
        {
            var source = ParsePath(path);
            var bucketSide = source.IsBucketObject ? source : destination;
            if (!bucketSide.IsBucketObject)
                throw new StorageException("UnsupportedCopy", ErrorKind.InvalidArgument, path,
                    "Copy-StorageItem copies to or from a bucket (gs://…); use Copy-Item between local files.");
            var staging = new StorageStaging(StoreFor(bucketSide));
            var steps = Run(staging.PlanCopyAsync(source, destination, Recurse));
            var options = new WriteOptions { Overwrite = !NoClobber };
            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                if (!ShouldProcess(step.Destination.ToString(), $"Copy from {step.Source}")) continue;
                if (steps.Count > 1)
                    WriteProgress(new ProgressRecord(2, "Copy-StorageItem", $"{i + 1} of {steps.Count}: {step.Source}")
                    {
                        PercentComplete = i * 100 / steps.Count,
                    });
                Wait(progress => staging.CopyAsync(step, options with { Progress = progress }), "Copying", step.Source.ToString(), step.Size);
                WriteObject(step.Destination.IsBucketObject
                    ? Run(StoreFor(bucketSide).GetInfoAsync(step.Destination))
                    : new FileInfo(step.Destination.LocalPath!));
            }
            if (steps.Count > 1)
                WriteProgress(new ProgressRecord(2, "Copy-StorageItem", "done") { RecordType = ProgressRecordType.Completed });
        }
    }
}
