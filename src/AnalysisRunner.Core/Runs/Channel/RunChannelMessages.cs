using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>What a job asks over its batch's run channel. It never says who it is: the channel it came in on does.</summary>
internal sealed record RunChannelRequest
{
    public required string Op { get; init; }
    public long? BatchId { get; init; }
    public int? JobId { get; init; }
    public int? Attempt { get; init; }
    public LogStream? Stream { get; init; }
    public bool Follow { get; init; }
    public IReadOnlyList<long>? BatchIds { get; init; }
    public string? ArGuid { get; init; }
    public BatchState? State { get; init; }
    public int? First { get; init; }
    public long? BeforeId { get; init; }
    public double? TimeoutSeconds { get; init; }
    public BatchSpec? Spec { get; init; }
    public bool DryRun { get; init; }
}

/// <summary>One answer: a result or a problem (the same ErrorIds as in-process); <see cref="More"/> when more answers follow (a log in parts).</summary>
internal sealed record RunChannelAnswer
{
    public JsonElement? Result { get; init; }
    public ProblemDocument? Problem { get; init; }
    public bool More { get; init; }
}

/// <summary>Who a channel's batch is: its run, and what New-Batch and Submit-Batch need of it in a job that cannot read the home.</summary>
public sealed record RunChannelIdentity
{
    public required long BatchId { get; init; }
    public required RunRecord Run { get; init; }
    public required string TmpBucket { get; init; }
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
    public required double LargestJobCpu { get; init; }
    public required long LargestJobMemoryBytes { get; init; }

    /// <summary>The storage backend and, on gcs, where its API is: what the job's cmdlets need to reach its buckets (never a key).</summary>
    public string StorageBackend { get; init; } = "local";
    public string? StorageEndpoint { get; init; }
    public bool StorageUnauthenticated { get; init; }
    public string? StorageProject { get; init; }

    /// <summary>The home's [web] url, so a driver's Submit-Batch can print its sub-batch's page; an address, never a grant.</summary>
    public string? WebUrl { get; init; }
}

/// <summary>The operations, by name.</summary>
internal static class RunChannelOps
{
    public const string WhoAmI = "whoami";
    public const string Submit = "submit";
    public const string Batch = "batch";
    public const string Batches = "batches";
    public const string Jobs = "jobs";
    public const string Job = "job";
    public const string Attempts = "attempts";
    public const string Log = "log";
    public const string Wait = "wait";
    public const string Cancel = "cancel";
    public const string Config = "config";
}
