using System.Security.Cryptography;

namespace AnalysisRunner.GcsTestServer;

/// <summary>One object as GCS keeps it: its bytes and the metadata the JSON API reports.</summary>
internal sealed record StoredObject(string Bucket, string Name, byte[] Data, string ContentType, long Generation,
    DateTimeOffset Created, DateTimeOffset Updated, IReadOnlyDictionary<string, string>? Metadata)
{
    public string Md5 { get; } = Convert.ToBase64String(MD5.HashData(Data));
    public string Crc32c { get; } = Crc32C.Base64(Data);
}

/// <summary>Why a precondition or lookup failed, as the HTTP status GCS answers with.</summary>
internal sealed class GcsError(int status, string reason, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Reason { get; } = reason;
}

/// <summary>
/// Every bucket and object, in memory. A bucket exists once something was written to it (as the
/// emulators do); generations grow across the whole server, so a replaced object gets a new one.
/// One lock: the tests' traffic is small and this keeps each write atomic.
/// </summary>
internal sealed class Buckets
{
    private readonly object _lock = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _buckets = new(StringComparer.Ordinal);
    private long _generation = 1_700_000_000_000_000;

    public bool Exists(string bucket)
    {
        lock (_lock) return _buckets.ContainsKey(bucket);
    }

    public StoredObject Get(string bucket, string name)
    {
        lock (_lock)
        {
            return _buckets.TryGetValue(bucket, out var objects) && objects.TryGetValue(name, out var found)
                ? found
                : throw NotFound(bucket, name);
        }
    }

    /// <summary>Stores the object if <paramref name="ifGenerationMatch"/> allows (0: only if there is none).</summary>
    public StoredObject Put(string bucket, string name, byte[] data, string? contentType, long? ifGenerationMatch,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        lock (_lock)
        {
            CheckPrecondition(bucket, name, ifGenerationMatch);
            if (!_buckets.TryGetValue(bucket, out var objects))
                _buckets[bucket] = objects = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            var now = DateTimeOffset.UtcNow;
            var created = objects.TryGetValue(name, out var previous) ? previous.Created : now;
            var stored = new StoredObject(bucket, name, data, string.IsNullOrEmpty(contentType) ? "application/octet-stream" : contentType,
                ++_generation, created, now, metadata);
            objects[name] = stored;
            return stored;
        }
    }

    public void CheckPrecondition(string bucket, string name, long? ifGenerationMatch)
    {
        if (ifGenerationMatch is not { } expected) return;
        lock (_lock)
        {
            var current = _buckets.TryGetValue(bucket, out var objects) && objects.TryGetValue(name, out var found) ? found.Generation : 0;
            if (current != expected)
                throw new GcsError(412, "conditionNotMet",
                    $"At least one of the pre-conditions you specified did not hold: ifGenerationMatch={expected}, the object's generation is {current}.");
        }
    }

    public void Delete(string bucket, string name)
    {
        lock (_lock)
        {
            if (!_buckets.TryGetValue(bucket, out var objects) || !objects.Remove(name)) throw NotFound(bucket, name);
        }
    }

    /// <summary>Objects under <paramref name="prefix"/> in name order (a snapshot, so a listing never sees a write half-way).</summary>
    public IReadOnlyList<StoredObject> List(string bucket, string prefix)
    {
        lock (_lock)
        {
            if (!_buckets.TryGetValue(bucket, out var objects))
                throw new GcsError(404, "notFound", $"The specified bucket does not exist: {bucket}");
            return objects.Values.Where(o => o.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        }
    }

    private static GcsError NotFound(string bucket, string name) => new(404, "notFound", $"No such object: {bucket}/{name}");
}
