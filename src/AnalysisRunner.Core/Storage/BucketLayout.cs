namespace AnalysisRunner.Core.Storage;

/// <summary>
/// The buckets one dataset sees at one access level: cpg-&lt;dataset&gt;-&lt;namespace&gt;[-category].
/// Bucket names are the same for every backend; locateBucket turns a name into where that
/// backend keeps it (a local folder, gs://…).
/// </summary>
public sealed record BucketLayout(string Dataset, AccessLevel AccessLevel, IReadOnlyDictionary<string, string> Categories)
{
    /// <summary>Bucket categories in the order configs list them; web_url is a URL, not a bucket.</summary>
    public static IReadOnlyList<string> CategoryNames { get; } = ["default", "analysis", "tmp", "upload", "web", "web_url"];

    public static BucketLayout Create(string dataset, AccessLevel level, Func<string, string> locateBucket)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataset);
        ArgumentNullException.ThrowIfNull(locateBucket);
        var ns = level.Namespace();
        var categories = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (category, bucket) in BucketCategories.Zip(BucketNames(dataset, level)))
            categories[category] = locateBucket(bucket);
        categories["web_url"] = $"https://{ns}-web.populationgenomics.org.au/{dataset}";
        return new BucketLayout(dataset, level, categories);
    }

    /// <summary>
    /// The bucket names (not locations) of one dataset at one access level, in category order:
    /// exactly the buckets a run's scoped store may touch.
    /// </summary>
    public static IReadOnlyList<string> BucketNames(string dataset, AccessLevel level)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataset);
        var main = $"cpg-{dataset}-{level.Namespace()}";
        return BucketCategories.Select(category => category == "default" ? main : $"{main}-{category}").ToArray();
    }

    private static IReadOnlyList<string> BucketCategories { get; } = ["default", "analysis", "tmp", "upload", "web"];

    public string Default => Categories["default"];
    public string Tmp => Categories["tmp"];
}
