namespace AnalysisRunner.Core.Batch.Building;

/// <summary>
/// The shape every path a batch reads or writes must have: gs://bucket/key, or an absolute local
/// path (the embedded deployment's folder buckets), never climbing out with '..'. Whether the run
/// may touch that bucket is Policy's question; this only refuses what cannot be a sound path.
/// </summary>
internal static class BucketPathRule
{
    private const string GcsScheme = "gs://";

    public static string Check(string? path, string errorId, string what)
    {
        var problem = Problem(path);
        if (problem is not null)
            throw new BatchValidationException(errorId, ErrorKind.InvalidArgument, path,
                $"{what} '{path}' {problem}; use gs://bucket/path or an absolute path such as /data/file.vcf.gz.");
        return path!;
    }

    private static string? Problem(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return "is empty";
        if (path.Any(char.IsControl)) return "contains a control character";
        string rest;
        var schemeEnd = path.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            if (!path.StartsWith(GcsScheme, StringComparison.Ordinal))
                return $"has scheme '{path[..schemeEnd]}', and only gs is known";
            rest = path[GcsScheme.Length..];
            var slash = rest.IndexOf('/');
            var bucket = slash < 0 ? rest : rest[..slash];
            if (bucket.Length == 0) return "names no bucket";
            if (!bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'))
                return $"has bucket '{bucket}', which is not a valid bucket name";
        }
        else if (path[0] == '/')
        {
            rest = path;
        }
        else
        {
            return "is neither a gs:// URI nor an absolute path";
        }
        return rest.Split('/').Contains("..") ? "contains a '..' segment" : null;
    }
}
