using System.Text.RegularExpressions;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Storage;

/// <summary>The embedded backend: every bucket is a folder under &lt;home&gt;/buckets.</summary>
public sealed partial class LocalBuckets
{
    private readonly RunnerHome _home;

    public LocalBuckets(RunnerHome home)
    {
        _home = home ?? throw new ArgumentNullException(nameof(home));
    }

    /// <summary>The folder for a bucket; not created here. Names follow GCS rules, so none can leave the buckets folder.</summary>
    public string Locate(string bucketName)
    {
        if (string.IsNullOrEmpty(bucketName) || !BucketName().IsMatch(bucketName) || bucketName.Contains(".."))
            throw new StorageException("InvalidBucketName", ErrorKind.InvalidArgument, bucketName,
                $"'{bucketName}' is not a bucket name: use 3-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit.");
        return Path.Combine(_home.BucketsDirectory, bucketName);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}
