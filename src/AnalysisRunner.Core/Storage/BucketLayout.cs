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
        var main = $"cpg-{dataset}-{ns}";
        var categories = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["default"] = locateBucket(main),
            ["analysis"] = locateBucket($"{main}-analysis"),
            ["tmp"] = locateBucket($"{main}-tmp"),
            ["upload"] = locateBucket($"{main}-upload"),
            ["web"] = locateBucket($"{main}-web"),
            ["web_url"] = $"https://{ns}-web.populationgenomics.org.au/{dataset}",
        };
        return new BucketLayout(dataset, level, categories);
    }

    public string Default => Categories["default"];
    public string Tmp => Categories["tmp"];
}
