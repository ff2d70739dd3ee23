namespace AnalysisRunner.Core;

/// <summary>
/// test reads and writes the dataset's test buckets; standard and full the main ones.
/// Together with the dataset it decides the buckets, the credentials and who pays.
/// </summary>
public enum AccessLevel
{
    Test,
    Standard,
    Full,
}

public static class AccessLevelNames
{
    public static readonly IReadOnlyList<string> All = ["test", "standard", "full"];

    /// <summary>The spelling used in configs, the registry and the audit log.</summary>
    public static string ToConfigName(this AccessLevel level) => level switch
    {
        AccessLevel.Test => "test",
        AccessLevel.Standard => "standard",
        AccessLevel.Full => "full",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    /// <summary>Bucket namespace: test runs see the test buckets, standard and full the main ones.</summary>
    public static string Namespace(this AccessLevel level) => level == AccessLevel.Test ? "test" : "main";

    public static AccessLevel Parse(string value) => value.Trim().ToLowerInvariant() switch
    {
        "test" => AccessLevel.Test,
        "standard" => AccessLevel.Standard,
        "full" => AccessLevel.Full,
        _ => throw new AnalysisRunnerException("InvalidAccessLevel", ErrorKind.InvalidArgument, value,
            $"Access level '{value}' is not one of: {string.Join(", ", All)}."),
    };
}
