namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// What happens after a job succeeds and before it counts as Succeeded: its Write-BatchOutput
/// resources are copied to their destinations, and on a cloud backend its resources and outputs go
/// up through the batch's scoped store. Run off the scheduler's thread, and again at recovery for a
/// job whose success was recorded but not yet published.
/// </summary>
internal static class OutputCopier
{
    /// <summary>Copies and uploads; returns why it failed, or null.</summary>
    public static string? Publish(AttemptPlan plan)
    {
        var error = Copy(plan.Outputs);
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

    /// <summary>Copies each output; returns why one failed, or null.</summary>
    public static string? Copy(IReadOnlyList<(string Source, string Destination)> outputs)
    {
        foreach (var (source, destination) in outputs)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                if (Directory.Exists(source)) CopyDirectory(source, destination);
                else File.Copy(source, destination, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"OutputCopyFailed: {source} → {destination}: {e.Message}";
            }
        }
        return null;
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
