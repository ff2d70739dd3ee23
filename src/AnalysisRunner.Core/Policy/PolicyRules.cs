namespace AnalysisRunner.Core.Policy;

internal static class PolicyRules
{
    /// <summary>Rules that read the dataset's entry refuse the same way DatasetExistsRule does when it is missing.</summary>
    public static DatasetEntry RequireDataset(PolicyRequest request, DatasetRegistry registry)
    {
        var entry = registry.Find(request.Dataset);
        if (entry is null) new DatasetExistsRule().Check(request, registry);
        return entry!;
    }
}
