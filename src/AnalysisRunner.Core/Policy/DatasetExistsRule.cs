namespace AnalysisRunner.Core.Policy;

internal sealed class DatasetExistsRule : IExplainingPolicyRule
{
    public string Name => "DatasetExists";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        if (registry.Find(request.Dataset) is not null) return;
        var known = registry.DatasetNames.Count == 0 ? "none" : string.Join(", ", registry.DatasetNames);
        throw new PolicyViolationException("DatasetNotFound", ErrorKind.ObjectNotFound, request.Dataset,
            $"Dataset '{request.Dataset}' is not in the registry '{registry.SourceName}' (known datasets: {known}). " +
            $"Use one of those, or add a [datasets.{request.Dataset}] table to the registry file.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        $"dataset '{request.Dataset}' is in {registry.SourceName}";
}
