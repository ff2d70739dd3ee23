namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Runs on real data (standard, full) may only use images from the image registries the dataset registry trusts;
/// test runs may use any image.
/// </summary>
public sealed class ImagePrefixRule : IExplainingPolicyRule
{
    public string Name => "ImagePrefix";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        var entry = PolicyRules.RequireDataset(request, registry);
        if (request.AccessLevel == AccessLevel.Test || request.Image is null) return;
        var prefixes = AllowedPrefixes(registry, entry);
        if (prefixes.Any(prefix => request.Image.StartsWith(prefix, StringComparison.Ordinal))) return;
        throw new PolicyViolationException("ImageNotAllowed", ErrorKind.PermissionDenied, request.Image,
            $"Image '{request.Image}' may not be used at access level '{request.AccessLevel.ToConfigName()}' on dataset '{request.Dataset}': " +
            $"it must start with one of: {(prefixes.Count == 0 ? "(no prefixes are configured)" : string.Join(", ", prefixes))}. " +
            $"Use such an image, use -AccessLevel test, or add the prefix to datasets.{request.Dataset}.image_prefixes in {registry.SourceName}.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        request.Image is null ? $"default image {registry.DefaultImage}"
        : request.AccessLevel == AccessLevel.Test ? "skipped: test access may use any image"
        : $"'{request.Image}' starts with an allowed prefix";

    private static IReadOnlyList<string> AllowedPrefixes(DatasetRegistry registry, DatasetEntry entry) =>
        registry.ImagePrefixes.Concat(entry.ImagePrefixes).Where(p => p.Length > 0).ToList();
}
