namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Runs on real data (standard, full) may only use images from the image registries the dataset registry trusts;
/// test runs may use any image.
/// </summary>
internal sealed class ImagePrefixRule : IExplainingPolicyRule
{
    public string Name => "ImagePrefix";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        var entry = PolicyRules.RequireDataset(request, registry);
        if (request.AccessLevel == AccessLevel.Test) return;
        // The registry's default is an image like any other: a default outside the prefixes would
        // run unchecked, and its re-run from the log (which names it) would then be refused.
        var image = request.Image ?? registry.DefaultImage;
        var prefixes = AllowedPrefixes(registry, entry);
        if (prefixes.Any(prefix => image.StartsWith(prefix, StringComparison.Ordinal))) return;
        throw new PolicyViolationException("ImageNotAllowed", ErrorKind.PermissionDenied, image,
            $"{(request.Image is null ? "The registry's default image" : "Image")} '{image}' may not be used at access level '{request.AccessLevel.ToConfigName()}' on dataset '{request.Dataset}': " +
            $"it must start with one of: {(prefixes.Count == 0 ? "(no prefixes are configured)" : string.Join(", ", prefixes))}. " +
            $"Use such an image, use -AccessLevel test, or add the prefix to datasets.{request.Dataset}.image_prefixes in {registry.SourceName}.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        request.AccessLevel == AccessLevel.Test ? "skipped: test access may use any image"
        : $"'{request.Image ?? registry.DefaultImage}'{(request.Image is null ? " (the default)" : "")} starts with an allowed prefix";

    private static IReadOnlyList<string> AllowedPrefixes(DatasetRegistry registry, DatasetEntry entry) =>
        registry.ImagePrefixes.Concat(entry.ImagePrefixes).Where(p => p.Length > 0).ToList();
}
