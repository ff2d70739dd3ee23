using System.Text;
using System.Text.RegularExpressions;

namespace AnalysisRunner.Core.Storage;

public enum StorageScheme
{
    /// <summary>gs://bucket/key: a bucket object, on whichever backend the deployment chose.</summary>
    Gs,

    /// <summary>file:///abs/path or /abs/path: a file on this machine (only the local backend reads these).</summary>
    File,
}

/// <summary>
/// A parsed, validated storage location. Parse once at the edge; everything below takes this type,
/// so no backend re-checks for '..', empty buckets or over-long keys.
/// A key ending in '/' (or the empty key) names a prefix, as gsutil treats it.
/// </summary>
public sealed partial record StorageUri
{
    public const int MaxKeyBytes = 1024;
    private const string GsPrefix = "gs://";
    private const string FilePrefix = "file://";

    private StorageUri(StorageScheme scheme, string bucket, string key, string? localPath)
    {
        Scheme = scheme;
        Bucket = bucket;
        Key = key;
        LocalPath = localPath;
    }

    public StorageScheme Scheme { get; }

    /// <summary>The bucket name (gs:// only; empty for files).</summary>
    public string Bucket { get; }

    /// <summary>The object key inside the bucket, without a leading '/' (gs:// only).</summary>
    public string Key { get; }

    /// <summary>The absolute local path (file:// only).</summary>
    public string? LocalPath { get; }

    public bool IsBucketObject => Scheme == StorageScheme.Gs;

    /// <summary>True for the bucket root and for keys ending in '/': names a folder-like prefix, not an object.</summary>
    public bool IsPrefix => Scheme == StorageScheme.Gs ? Key.Length == 0 || Key.EndsWith('/') : LocalPath!.EndsWith('/');

    /// <summary>The last segment of the key or path ("" for a bucket root).</summary>
    public string Name
    {
        get
        {
            var text = (Scheme == StorageScheme.Gs ? Key : LocalPath!).TrimEnd('/');
            return text[(text.LastIndexOf('/') + 1)..];
        }
    }

    public static StorageUri Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new StorageException("InvalidStoragePath", ErrorKind.InvalidArgument, text,
                "A storage path is required: gs://bucket/key, file:///absolute/path or an absolute path.");
        if (text.StartsWith(GsPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var rest = text[GsPrefix.Length..];
            var slash = rest.IndexOf('/');
            var bucket = slash < 0 ? rest : rest[..slash];
            var key = slash < 0 ? "" : rest[(slash + 1)..];
            return Gs(bucket, key, text);
        }
        if (text.StartsWith(FilePrefix, StringComparison.OrdinalIgnoreCase))
        {
            var rest = text[FilePrefix.Length..];
            if (!rest.StartsWith('/'))
                throw new StorageException("InvalidStoragePath", ErrorKind.InvalidArgument, text,
                    $"'{text}' is not a file URI with an absolute path: write file:///absolute/path (three slashes).");
            return File(Uri.UnescapeDataString(rest), text);
        }
        if (SchemePrefix().IsMatch(text))
            throw new StorageException("UnsupportedScheme", ErrorKind.InvalidArgument, text,
                $"'{text}' uses a scheme the runner does not store to; use gs://bucket/key, file:///absolute/path or an absolute path.");
        if (text.StartsWith('/')) return File(text, text);
        throw new StorageException("InvalidStoragePath", ErrorKind.InvalidArgument, text,
            $"'{text}' is neither gs://bucket/key nor an absolute path; resolve relative paths before naming them as storage.");
    }

    public static bool TryParse(string text, out StorageUri? uri)
    {
        try
        {
            uri = Parse(text);
            return true;
        }
        catch (StorageException)
        {
            uri = null;
            return false;
        }
    }

    /// <summary>gs://bucket/key, validated; <paramref name="original"/> is what error messages name.</summary>
    public static StorageUri Gs(string bucket, string key, string? original = null)
    {
        original ??= GsPrefix + bucket + "/" + key;
        if (bucket.Length == 0)
            throw new StorageException("InvalidBucketName", ErrorKind.InvalidArgument, original,
                $"'{original}' has no bucket name: write gs://bucket/key.");
        if (!BucketName().IsMatch(bucket) || bucket.Contains(".."))
            throw new StorageException("InvalidBucketName", ErrorKind.InvalidArgument, original,
                $"'{bucket}' in '{original}' is not a bucket name: use 3-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit.");
        CheckSegments(key, original);
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
            throw new StorageException("KeyTooLong", ErrorKind.InvalidArgument, original,
                $"The key of '{Shorten(original)}' is {Encoding.UTF8.GetByteCount(key)} bytes of UTF-8; object keys may be at most {MaxKeyBytes}.");
        return new StorageUri(StorageScheme.Gs, bucket, key, null);
    }

    private static StorageUri File(string path, string original)
    {
        CheckSegments(path, original);
        var trailing = path.EndsWith('/') && path.Length > 1;
        var full = Path.GetFullPath(path);
        return new StorageUri(StorageScheme.File, "", "", trailing ? full.TrimEnd('/') + "/" : full);
    }

    private static void CheckSegments(string path, string original)
    {
        if (path.IndexOf('\0') >= 0 || path.Any(c => c is '\r' or '\n'))
            throw new StorageException("InvalidStoragePath", ErrorKind.InvalidArgument, original,
                $"'{Shorten(original)}' contains a control character; object names may not hold NUL, CR or LF.");
        foreach (var segment in path.Split('/'))
            if (segment is "." or "..")
                throw new StorageException("InvalidStoragePath", ErrorKind.InvalidArgument, original,
                    $"'{Shorten(original)}' contains a '{segment}' segment; name the object by its full path without '.' or '..'.");
    }

    /// <summary>An object under this prefix (or beside this object's folder), relative key with '/'.</summary>
    public StorageUri Combine(string relative)
    {
        var trimmed = relative.TrimStart('/');
        return Scheme == StorageScheme.Gs
            ? Gs(Bucket, AsPrefixKey() + trimmed)
            : File(LocalPath!.TrimEnd('/') + "/" + trimmed, "file://" + LocalPath!.TrimEnd('/') + "/" + trimmed);
    }

    /// <summary>The same location seen as a prefix: the key with a trailing '/' (or "" for the root).</summary>
    public StorageUri AsPrefix() => IsPrefix ? this : Scheme == StorageScheme.Gs
        ? new StorageUri(Scheme, Bucket, Key + "/", null)
        : new StorageUri(Scheme, "", "", LocalPath + "/");

    private string AsPrefixKey() => Key.Length == 0 || Key.EndsWith('/') ? Key : Key + "/";

    public override string ToString() => Scheme == StorageScheme.Gs ? $"{GsPrefix}{Bucket}/{Key}" : LocalPath!;

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..100] + "…";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex SchemePrefix();
}
