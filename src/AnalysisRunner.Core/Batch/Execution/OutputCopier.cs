using System.Globalization;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// What happens after a job succeeds and before it counts as Succeeded: the copies are checked
/// against the batch's scope again (ResourcePaths.CheckCopies), its Write-BatchOutput resources are copied to their destinations, and on a cloud backend its resources and outputs go
/// up through the batch's scoped store. Run off the scheduler's thread, and again at recovery for a
/// job whose success was recorded but not yet published.
/// Every copy goes through the local store: into a temporary file in the destination's folder,
/// renamed into place once whole, so a copy that fails (a full disk) or is cut off (a killed
/// executor) never leaves a partial file under the destination's name, nor takes the previous one
/// away. The temporary name is fixed per attempt and output, so the copy repeated at recovery
/// replaces what a killed one left rather than leaving it behind.
/// </summary>
internal sealed class OutputCopier(IObjectStore local)
{
    /// <summary>Checks the copies against the batch's scope (the job ran in between), copies and uploads; returns why it failed, or null.</summary>
    public string? Publish(AttemptPlan plan)
    {
        var error = plan.Paths.CheckCopies(plan.Outputs, plan.Resources) ?? Copy(plan.Launch.Key, plan.Outputs);
        if (error is not null || plan.Launch.Staging is null) return error;
        try
        {
            plan.Launch.Staging.Upload(plan.Resources, plan.Outputs.Select(output => output.Destination));
            return null;
        }
        catch (Exception e) when (e is AnalysisRunnerException or IOException)
        {
            return $"OutputUploadFailed: {e.Message}";
        }
    }

    /// <summary>Copies each output (a folder file by file); returns why one failed, or null.</summary>
    public string? Copy(AttemptKey key, IReadOnlyList<(string Source, string Destination)> outputs)
    {
        for (var i = 0; i < outputs.Count; i++)
        {
            var (source, destination) = outputs[i];
            try
            {
                var files = Directory.Exists(source)
                    ? Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                        .Select(file => (File: file, Target: Path.Combine(destination, Path.GetRelativePath(source, file))))
                    : [(File: source, Target: destination)];
                var n = 0;
                foreach (var (file, target) in files)
                {
                    using var content = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                    var temporary = string.Create(CultureInfo.InvariantCulture, $"output-{key.BatchId}-{key.JobId}-{key.Attempt}-{i}-{n++}");
                    local.WriteAsync(StorageUri.Parse(target), content, new WriteOptions { TemporaryName = temporary }).GetAwaiter().GetResult();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or AnalysisRunnerException)
            {
                return $"OutputCopyFailed: {source} → {destination}: {e.Message}";
            }
        }
        return null;
    }
}
