using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace AnalysisRunner.GcsTestServer;

/// <summary>
/// The routes of the JSON API that clients of GCS use: object metadata, media downloads (with
/// Range), listing with prefix, delimiter and pages, delete, uploads (media, multipart, and
/// resumable sessions whose non-final chunks get 308 and a Range header), copy and rewrite, and the
/// ifGenerationMatch precondition (0: only if no such object). Anything else answers 501 naming the
/// call, so a client that starts using something new fails loudly instead of getting a wrong answer.
/// </summary>
internal sealed partial class JsonApi(Buckets buckets)
{
    private const int DefaultPageSize = 1000;
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly ConcurrentDictionary<string, ResumableUpload> _uploads = new();

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (GcsError error)
        {
            await WriteError(context, error.Status, error.Reason, error.Message).ConfigureAwait(false);
        }
        catch (Exception unexpected) when (!context.Response.HasStarted)
        {
            // A bug here, not the client's: say so where the test's output shows it.
            Console.Error.WriteLine($"GCS test server: {context.Request.Method} {context.Request.Path}: {unexpected}");
            await WriteError(context, 500, "backendError", $"The GCS test server failed: {unexpected.Message}").ConfigureAwait(false);
        }
    }

    private Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        // The raw target keeps %2F inside object names apart from the path's own slashes.
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var path = target.Split('?', 2)[0];
        var (api, segments) = Split(path);
        var method = request.Method;

        // b/{bucket}/o/{object}/(rewriteTo|copyTo)/b/{bucket}/o/{object}
        var transfer = Array.FindIndex(segments, s => s is "rewriteTo" or "copyTo");
        if (api == "storage" && method == "POST" && transfer > 3 && segments.Length > transfer + 4)
            return Transfer(context, segments[1], string.Join('/', segments[3..transfer]), segments[transfer + 2],
                string.Join('/', segments[(transfer + 4)..]), rewrite: segments[transfer] == "rewriteTo");

        if (segments.Length < 2 || segments[0] != "b") return NotImplemented(context);
        var bucket = segments[1];
        var name = segments.Length > 3 && segments[2] == "o" ? string.Join('/', segments[3..]) : null;
        return (api, method, segments.Length) switch
        {
            ("storage", "GET", 2) => BucketInfo(context, bucket),
            ("storage", "GET", 3) when segments[2] == "o" => List(context, bucket),
            ("storage" or "download", "GET", _) when name is not null => request.Query["alt"] == "media"
                ? Media(context, buckets.Get(bucket, name))
                : WriteJson(context, 200, ObjectResource(buckets.Get(bucket, name))),
            ("storage", "DELETE", _) when name is not null => Delete(context, bucket, name),
            ("upload", "POST", 3) when segments[2] == "o" => Upload(context, bucket),
            ("upload", "PUT", 3) when segments[2] == "o" => ResumeUpload(context),
            ("upload", "DELETE", 3) when segments[2] == "o" => CancelUpload(context),
            _ => NotImplemented(context),
        };
    }

    /// <summary>"/upload/storage/v1/b/x/o" → ("upload", [b, x, o]); segments are unescaped one by one.</summary>
    private static (string Api, string[] Segments) Split(string rawPath)
    {
        var parts = rawPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        return parts switch
        {
            ["storage", "v1", .. var rest] => ("storage", rest),
            ["upload" or "download", "storage", "v1", .. var rest] => (parts[0], rest),
            _ => ("", []),
        };
    }

    private Task BucketInfo(HttpContext context, string bucket) =>
        buckets.Exists(bucket)
            ? WriteJson(context, 200, new { kind = "storage#bucket", id = bucket, name = bucket })
            : throw new GcsError(404, "notFound", $"The specified bucket does not exist: {bucket}");

    private Task List(HttpContext context, string bucket)
    {
        var query = context.Request.Query;
        var prefix = query["prefix"].ToString();
        var delimiter = query["delimiter"].ToString();
        var pageSize = int.TryParse(query["maxResults"], out var max) && max > 0 ? Math.Min(max, DefaultPageSize) : DefaultPageSize;
        var after = query["pageToken"].ToString() is { Length: > 0 } token ? Encoding.UTF8.GetString(Convert.FromBase64String(token)) : null;

        // Objects and folded prefixes interleave in name order; a page is the next pageSize of them.
        var entries = new List<(string Key, StoredObject? Object)>();
        foreach (var stored in buckets.List(bucket, prefix))
        {
            var rest = stored.Name[prefix.Length..];
            var fold = delimiter.Length > 0 ? rest.IndexOf(delimiter, StringComparison.Ordinal) : -1;
            if (fold < 0) entries.Add((stored.Name, stored));
            else
            {
                var folded = prefix + rest[..(fold + delimiter.Length)];
                if (entries.Count == 0 || entries[^1].Key != folded) entries.Add((folded, null));
            }
        }
        var page = entries.Where(e => after is null || string.CompareOrdinal(e.Key, after) > 0).Take(pageSize + 1).ToList();
        var more = page.Count > pageSize;
        if (more) page.RemoveAt(pageSize);
        var items = page.Where(e => e.Object is not null).Select(e => ObjectResource(e.Object!)).ToList();
        var prefixes = page.Where(e => e.Object is null).Select(e => e.Key).ToList();
        return WriteJson(context, 200, new
        {
            kind = "storage#objects",
            items = items.Count > 0 ? items : null,
            prefixes = prefixes.Count > 0 ? prefixes : null,
            nextPageToken = more ? Convert.ToBase64String(Encoding.UTF8.GetBytes(page[^1].Key)) : null,
        });
    }

    private static async Task Media(HttpContext context, StoredObject stored)
    {
        var response = context.Response;
        response.ContentType = stored.ContentType;
        response.Headers["x-goog-generation"] = stored.Generation.ToString(CultureInfo.InvariantCulture);
        response.Headers["x-goog-hash"] = $"crc32c={stored.Crc32c},md5={stored.Md5}";
        response.Headers.AcceptRanges = "bytes";
        var (start, length) = (0L, (long)stored.Data.Length);
        if (context.Request.GetTypedHeaders().Range is { Ranges.Count: 1 } range)
        {
            var total = stored.Data.Length;
            var item = range.Ranges.First();
            start = item.From ?? Math.Max(0, total - (item.To ?? 0));
            var end = item.From is null ? total - 1 : Math.Min(item.To ?? total - 1, total - 1);
            if (start >= total || end < start)
            {
                response.Headers.ContentRange = $"bytes */{total}";
                throw new GcsError(416, "requestedRangeNotSatisfiable", $"The range {context.Request.Headers.Range} is outside the object's {total} bytes.");
            }
            length = end - start + 1;
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {start}-{end}/{total}";
        }
        response.ContentLength = length;
        await response.Body.WriteAsync(stored.Data.AsMemory((int)start, (int)length)).ConfigureAwait(false);
    }

    private Task Delete(HttpContext context, string bucket, string name)
    {
        buckets.CheckPrecondition(bucket, name, GenerationMatch(context));
        buckets.Delete(bucket, name);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    private async Task Upload(HttpContext context, string bucket)
    {
        var request = context.Request;
        var uploadType = request.Query["uploadType"].ToString();
        var ifGenerationMatch = GenerationMatch(context);
        switch (uploadType)
        {
            case "media":
            {
                var name = request.Query["name"].ToString();
                if (name.Length == 0) throw new GcsError(400, "required", "uploadType=media needs ?name=");
                var data = await ReadBody(request).ConfigureAwait(false);
                await WriteJson(context, 200, ObjectResource(buckets.Put(bucket, name, data, request.ContentType, ifGenerationMatch))).ConfigureAwait(false);
                return;
            }
            case "multipart":
            {
                var (metadata, data, contentType) = await ReadMultipart(request).ConfigureAwait(false);
                var name = metadata.Name ?? request.Query["name"].ToString();
                var stored = buckets.Put(bucket, name, data, metadata.ContentType ?? contentType, ifGenerationMatch, metadata.Metadata);
                await WriteJson(context, 200, ObjectResource(stored)).ConfigureAwait(false);
                return;
            }
            case "resumable":
            {
                var body = await ReadBody(request).ConfigureAwait(false);
                var metadata = body.Length == 0 ? new ObjectMetadata() : JsonSerializer.Deserialize<ObjectMetadata>(body, Json) ?? new ObjectMetadata();
                var name = metadata.Name ?? request.Query["name"].ToString();
                if (name.Length == 0) throw new GcsError(400, "required", "A resumable upload needs a name (in the body or ?name=).");
                // Checked when the session starts and again when it completes, as GCS does.
                buckets.CheckPrecondition(bucket, name, ifGenerationMatch);
                var id = Guid.NewGuid().ToString("N");
                _uploads[id] = new ResumableUpload(bucket, name,
                    metadata.ContentType ?? request.Headers["X-Upload-Content-Type"].ToString(), ifGenerationMatch, metadata.Metadata);
                context.Response.Headers.Location = $"{request.Scheme}://{request.Host}/upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={id}";
                context.Response.StatusCode = 200;
                return;
            }
            default:
                throw new GcsError(400, "invalidParameter", $"uploadType '{uploadType}' is not one of media, multipart, resumable.");
        }
    }

    /// <summary>
    /// One PUT of a resumable session. Content-Range "bytes a-b/*" (or a total past b) is a chunk with
    /// more to come: 308 and the Range held so far. "bytes a-b/N" reaching N, or "bytes */N" with N held,
    /// completes the object; "bytes */*" asks how far it got. Until it completes there is no object.
    /// </summary>
    private async Task ResumeUpload(HttpContext context)
    {
        var id = context.Request.Query["upload_id"].ToString();
        if (!_uploads.TryGetValue(id, out var upload))
            throw new GcsError(404, "notFound", $"No resumable upload session '{id}' (it completed, was cancelled, or never began).");
        var data = await ReadBody(context.Request).ConfigureAwait(false);
        var contentRange = context.Request.Headers.ContentRange.ToString();
        long? total;
        lock (upload)
        {
            if (contentRange.Length == 0)
            {
                upload.Append(0, data);
                total = upload.Length;
            }
            else if (ContentRangePattern().Match(contentRange) is { Success: true } match)
            {
                if (match.Groups["start"].Success)
                {
                    var start = long.Parse(match.Groups["start"].Value, CultureInfo.InvariantCulture);
                    if (start > upload.Length)
                        throw new GcsError(400, "invalid", $"Chunk starts at {start}, but only {upload.Length} bytes have arrived.");
                    upload.Append(start, data);
                }
                total = match.Groups["total"].Value == "*" ? null : long.Parse(match.Groups["total"].Value, CultureInfo.InvariantCulture);
            }
            else
            {
                throw new GcsError(400, "invalid", $"Content-Range '{contentRange}' is not 'bytes a-b/N', 'bytes a-b/*' or 'bytes */N'.");
            }
        }
        if (total is { } size && upload.Length >= size)
        {
            if (upload.Length > size) throw new GcsError(400, "invalid", $"{upload.Length} bytes arrived for an object of {size}.");
            var stored = buckets.Put(upload.Bucket, upload.Name, upload.ToArray(), upload.ContentType, upload.IfGenerationMatch, upload.Metadata);
            _uploads.TryRemove(id, out _);
            await WriteJson(context, 200, ObjectResource(stored)).ConfigureAwait(false);
            return;
        }
        if (upload.Length > 0) context.Response.Headers["Range"] = $"bytes=0-{upload.Length - 1}";
        context.Response.StatusCode = 308;
    }

    private Task CancelUpload(HttpContext context)
    {
        _uploads.TryRemove(context.Request.Query["upload_id"].ToString(), out _);
        context.Response.StatusCode = 499;
        return Task.CompletedTask;
    }

    private Task Transfer(HttpContext context, string sourceBucket, string sourceName, string bucket, string name, bool rewrite)
    {
        var source = buckets.Get(sourceBucket, sourceName);
        var copied = buckets.Put(bucket, name, source.Data, source.ContentType, GenerationMatch(context), source.Metadata);
        var resource = ObjectResource(copied);
        return rewrite
            ? WriteJson(context, 200, new
            {
                kind = "storage#rewriteResponse",
                totalBytesRewritten = Size(copied),
                objectSize = Size(copied),
                done = true,
                resource,
            })
            : WriteJson(context, 200, resource);
    }

    private static long? GenerationMatch(HttpContext context) =>
        long.TryParse(context.Request.Query["ifGenerationMatch"], NumberStyles.None, CultureInfo.InvariantCulture, out var generation) ? generation : null;

    private static string Size(StoredObject stored) => stored.Data.Length.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, object?> ObjectResource(StoredObject o)
    {
        var generation = o.Generation.ToString(CultureInfo.InvariantCulture);
        var escaped = Uri.EscapeDataString(o.Name);
        return new Dictionary<string, object?>
        {
            ["kind"] = "storage#object",
            ["id"] = $"{o.Bucket}/{o.Name}/{generation}",
            ["selfLink"] = $"/storage/v1/b/{o.Bucket}/o/{escaped}",
            ["mediaLink"] = $"/download/storage/v1/b/{o.Bucket}/o/{escaped}?generation={generation}&alt=media",
            ["name"] = o.Name,
            ["bucket"] = o.Bucket,
            ["generation"] = generation,
            ["metageneration"] = "1",
            ["contentType"] = o.ContentType,
            ["storageClass"] = "STANDARD",
            ["size"] = Size(o),
            ["md5Hash"] = o.Md5,
            ["crc32c"] = o.Crc32c,
            ["etag"] = $"\"{generation}\"",
            ["timeCreated"] = Timestamp(o.Created),
            ["updated"] = Timestamp(o.Updated),
            ["metadata"] = o.Metadata,
        };
    }

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The request's bytes; Google's client gzips its JSON bodies (Content-Encoding: gzip).</summary>
    private static async Task<byte[]> ReadBody(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await Decoded(request).CopyToAsync(buffer).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>The body, unzipped if need be; the server disposes the request body itself.</summary>
    private static Stream Decoded(HttpRequest request) =>
        request.Headers.ContentEncoding.ToString() == "gzip"
            ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true)
            : request.Body;

    /// <summary>multipart/related: the object's JSON metadata, then its bytes.</summary>
    private static async Task<(ObjectMetadata Metadata, byte[] Data, string? ContentType)> ReadMultipart(HttpRequest request)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value
            ?? throw new GcsError(400, "invalid", "A multipart upload needs a boundary in its Content-Type.");
        var reader = new MultipartReader(boundary, Decoded(request));
        var metadataPart = await reader.ReadNextSectionAsync().ConfigureAwait(false)
            ?? throw new GcsError(400, "invalid", "A multipart upload needs a metadata part and a media part.");
        var metadata = await JsonSerializer.DeserializeAsync<ObjectMetadata>(metadataPart.Body, Json).ConfigureAwait(false) ?? new ObjectMetadata();
        var mediaPart = await reader.ReadNextSectionAsync().ConfigureAwait(false)
            ?? throw new GcsError(400, "invalid", "A multipart upload needs a media part after its metadata.");
        using var data = new MemoryStream();
        await mediaPart.Body.CopyToAsync(data).ConfigureAwait(false);
        return (metadata, data.ToArray(), mediaPart.ContentType);
    }

    private static Task NotImplemented(HttpContext context)
    {
        var what = $"{context.Request.Method} {context.Features.Get<IHttpRequestFeature>()!.RawTarget}";
        Console.Error.WriteLine($"GCS test server: not implemented: {what}");
        return WriteError(context, 501, "notImplemented", $"The GCS test server does not implement {what}.");
    }

    private static Task WriteError(HttpContext context, int status, string reason, string message) =>
        WriteJson(context, status, new
        {
            error = new { code = status, message, errors = new[] { new { domain = "global", reason, message } } },
        });

    private static async Task WriteJson(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body, Json)).ConfigureAwait(false);
    }

    [GeneratedRegex(@"^bytes (?:(?<start>\d+)-(?<end>\d+)|\*)/(?<total>\d+|\*)$")]
    private static partial Regex ContentRangePattern();

    /// <summary>The parts of an object resource a client sends when it creates one.</summary>
    private sealed class ObjectMetadata
    {
        [System.Text.Json.Serialization.JsonPropertyName("name")] public string? Name { get; set; }
        [System.Text.Json.Serialization.JsonPropertyName("contentType")] public string? ContentType { get; set; }
        [System.Text.Json.Serialization.JsonPropertyName("metadata")] public Dictionary<string, string>? Metadata { get; set; }
    }

    /// <summary>Bytes of a resumable session so far; a chunk sent again (after a lost reply) overwrites its own range.</summary>
    private sealed class ResumableUpload(string bucket, string name, string? contentType, long? ifGenerationMatch, IReadOnlyDictionary<string, string>? metadata)
    {
        private readonly MemoryStream _data = new();
        public string Bucket { get; } = bucket;
        public string Name { get; } = name;
        public string? ContentType { get; } = contentType;
        public long? IfGenerationMatch { get; } = ifGenerationMatch;
        public IReadOnlyDictionary<string, string>? Metadata { get; } = metadata;
        public long Length => _data.Length;

        public void Append(long start, byte[] chunk)
        {
            _data.Position = start;
            _data.Write(chunk);
        }

        public byte[] ToArray() => _data.ToArray();
    }
}
