using AnalysisRunner.Core;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// /web/&lt;dataset&gt;/&lt;namespace&gt;/&lt;path&gt;: a file of the dataset's web bucket (cpg-&lt;dataset&gt;-&lt;ns&gt;-web),
/// for members of that namespace only (403 otherwise). A path that tries to leave the bucket is 400
/// whichever way it is spelt (.., encoded dots or slashes, backslashes, NUL); on the local backend a
/// symbolic link anywhere below the bucket is 404, since it could point anywhere. Files are served in
/// a CSP sandbox: a member's HTML may run script, but in an origin of its own, never as this server's pages.
/// </summary>
internal static class WebBucketEndpoint
{
    public const string Route = "/web/{dataset}/{ns}/{**path}";
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static async Task ServeAsync(HttpContext context, RunnerHomeAccess home, string dataset, string ns, string? path)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var key = CheckPath(raw, path ?? "");
        var deployment = home.Deployment;
        DatasetReadAccess.Check(deployment.LoadRegistry(), context.User.Identity!.Name!, dataset, ns);
        var level = ns == "test" ? AccessLevel.Test : AccessLevel.Standard;
        if (key.Length == 0 || key.EndsWith('/')) key += "index.html";
        var bucket = BucketLayout.BucketNames(dataset, level).Single(name => name.EndsWith("-web", StringComparison.Ordinal));
        var uri = StorageUri.Gs(bucket, key);
        if (!deployment.IsGcs) RefuseLinks(deployment.Buckets.Locate(bucket), key, uri);

        await using var content = await deployment.ScopedStore(dataset, level).OpenReadAsync(uri, context.RequestAborted);
        var response = context.Response;
        response.ContentType = ContentTypes.TryGetContentType(key, out var type) ? type : "application/octet-stream";
        response.Headers.ContentSecurityPolicy = "sandbox allow-scripts allow-popups allow-downloads; frame-ancestors 'self'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "private, no-cache";
        await content.CopyToAsync(response.Body, context.RequestAborted);
    }

    /// <summary>The object key for a request, or 400 for one that tries to leave the bucket in any spelling.</summary>
    internal static string CheckPath(string rawTarget, string path)
    {
        var rawPath = rawTarget.Split('?', 2)[0];
        var encodedEscape = new[] { "%2f", "%5c", "%00", "%2e" }.FirstOrDefault(code => rawPath.Contains(code, StringComparison.OrdinalIgnoreCase));
        var segments = path.Split('/');
        // Kestrel takes "a/../b" out of the path before routing; the raw target still shows it was asked for.
        var badSegment = segments.SkipLast(1).Any(segment => segment.Length == 0)
            || segments.Concat(rawPath.Split('/')).Any(segment => segment is "." or "..");
        if (encodedEscape is not null || badSegment || path.StartsWith('/') || path.Any(c => c == '\\' || char.IsControl(c)))
            throw new AnalysisRunnerException("InvalidWebPath", ErrorKind.InvalidArgument, path,
                $"'{path}' is not a path inside the web bucket: it may not contain '.' or '..' segments, empty segments, " +
                "backslashes, control characters or percent-encoded dots, slashes or NULs.");
        return path;
    }

    private static void RefuseLinks(string bucketFolder, string key, StorageUri uri)
    {
        var current = bucketFolder;
        foreach (var segment in key.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, segment);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null)
                throw new StorageException("ObjectNotFound", ErrorKind.ObjectNotFound, uri.ToString(),
                    $"No object at '{uri}' (the web bucket serves no symbolic links).");
            if (!info.Exists && !Directory.Exists(current)) return;
        }
    }
}
