using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// A job's end of its batch's run channel: inside a sandbox, where the runner home's database, keys
/// and registry are hidden, the module's cmdlets ask the executor instead (Deployment hands out
/// stores and readers over this). The executor set <see cref="Variable"/> for sandboxed jobs only;
/// the variable says only where to connect — what the executor answers, and for which run, is the
/// channel's: the socket is that batch's, so naming another path reaches no other run.
/// </summary>
public sealed class RunChannel
{
    public const string Variable = "AR_RUN_CHANNEL";

    /// <summary>Where the executor binds a batch's channel inside its sandbox.</summary>
    public const string SandboxPath = "/run/analysis-runner/run.sock";

    private RunChannelIdentity? _identity;

    public RunChannel(string socketPath) => SocketPath = socketPath;

    public string SocketPath { get; }

    /// <summary>The channel this process was given (a sandboxed job), or null.</summary>
    public static RunChannel? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? new RunChannel(path) : null;

    /// <summary>The run of the batch this channel belongs to, as the executor knows it (asked once).</summary>
    public RunChannelIdentity Identity() => _identity ??= Ask<RunChannelIdentity>(new RunChannelRequest { Op = RunChannelOps.WhoAmI })!;

    /// <inheritdoc cref="Identity"/>
    public async Task<RunChannelIdentity> IdentityAsync(CancellationToken cancellationToken = default) =>
        _identity ??= (await AskAsync<RunChannelIdentity>(new RunChannelRequest { Op = RunChannelOps.WhoAmI }, cancellationToken).ConfigureAwait(false))!;

    /// <summary>The text of the channel's run's config.</summary>
    public async Task<string> ReadConfigAsync(CancellationToken cancellationToken = default) =>
        (await AskAsync<string>(new RunChannelRequest { Op = RunChannelOps.Config }, cancellationToken).ConfigureAwait(false))!;

    /// <summary>
    /// The settings a sandboxed job's cmdlets work with: the storage backend the executor names, and on
    /// gcs the job's own scope key (the variable the executor gave it), for its run's scope only.
    /// </summary>
    public Hosting.RunnerSettings JobSettings()
    {
        var identity = Identity();
        var key = Environment.GetEnvironmentVariable(Batch.Execution.JobStaging.CredentialsVariable);
        var credentials = new Dictionary<string, IReadOnlyDictionary<AccessLevel, string>>();
        if (!string.IsNullOrEmpty(key))
            credentials[identity.Run.Dataset] = new Dictionary<AccessLevel, string> { [identity.Run.AccessLevel] = key };
        return new Hosting.RunnerSettings
        {
            Storage = new Hosting.StorageSettings
            {
                Backend = identity.StorageBackend,
                Endpoint = identity.StorageEndpoint,
                Unauthenticated = identity.StorageUnauthenticated,
                Project = identity.StorageProject,
                DatasetCredentials = credentials,
            },
            Web = identity.WebUrl is { } url ? Web.WebAddress.Parse(url, "the run channel's web address") : null,
        };
    }

    public BatchSpec Check(BatchSpec spec) => Ask<BatchSpec>(new RunChannelRequest { Op = RunChannelOps.Submit, Spec = spec, DryRun = true })!;

    public async Task<BatchInfo> SubmitAsync(BatchSpec spec, CancellationToken cancellationToken = default) =>
        (await AskAsync<BatchInfo>(new RunChannelRequest { Op = RunChannelOps.Submit, Spec = spec }, cancellationToken).ConfigureAwait(false))!;

    public Task<BatchInfo?> GetBatchAsync(long batchId, CancellationToken cancellationToken = default) =>
        AskAsync<BatchInfo>(new RunChannelRequest { Op = RunChannelOps.Batch, BatchId = batchId }, cancellationToken);

    public async Task<IReadOnlyList<BatchInfo>> FindBatchesAsync(BatchQuery query, CancellationToken cancellationToken = default) =>
        await AskAsync<List<BatchInfo>>(new RunChannelRequest { Op = RunChannelOps.Batches, ArGuid = query.ArGuid, BatchIds = query.Ids, State = query.State, First = query.First, BeforeId = query.BeforeId },
            cancellationToken).ConfigureAwait(false) ?? [];

    public async Task<IReadOnlyList<JobInfo>> GetJobsAsync(long batchId, CancellationToken cancellationToken = default) =>
        await AskAsync<List<JobInfo>>(new RunChannelRequest { Op = RunChannelOps.Jobs, BatchId = batchId }, cancellationToken).ConfigureAwait(false) ?? [];

    public Task<JobInfo?> GetJobAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        AskAsync<JobInfo>(new RunChannelRequest { Op = RunChannelOps.Job, BatchId = batchId, JobId = jobId }, cancellationToken);

    public async Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(long batchId, int jobId, CancellationToken cancellationToken = default) =>
        await AskAsync<List<JobAttempt>>(new RunChannelRequest { Op = RunChannelOps.Attempts, BatchId = batchId, JobId = jobId }, cancellationToken)
            .ConfigureAwait(false) ?? [];

    public Task RequestCancelAsync(long batchId, CancellationToken cancellationToken = default) =>
        AskAsync<JsonElement?>(new RunChannelRequest { Op = RunChannelOps.Cancel, BatchId = batchId }, cancellationToken);

    public async Task<IReadOnlyList<BatchInfo>> WaitAsync(IReadOnlyList<long> batchIds, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var request = new RunChannelRequest { Op = RunChannelOps.Wait, BatchIds = batchIds, TimeoutSeconds = timeout?.TotalSeconds };
        await foreach (var answer in ExchangeAsync(request, cancellationToken).ConfigureAwait(false))
            return Result<List<BatchInfo>>(answer) ?? [];
        return [];
    }

    public async IAsyncEnumerable<string> ReadLogAsync(long batchId, int jobId, int attempt, Batch.Runners.LogStream stream, bool follow,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new RunChannelRequest { Op = RunChannelOps.Log, BatchId = batchId, JobId = jobId, Attempt = attempt, Stream = stream, Follow = follow };
        await foreach (var answer in ExchangeAsync(request, cancellationToken).ConfigureAwait(false))
            foreach (var line in Result<List<string>>(answer) ?? [])
                yield return line;
    }

    /// <summary>
    /// For the few synchronous reads (the channel's identity, a dry-run check) whose callers are
    /// synchronous in a job's own process (its settings, a runner's capacity, New-Batch's check on the
    /// pipeline thread), none of them on a thread another request needs.
    /// </summary>
    private T? Ask<T>(RunChannelRequest request) =>
        Task.Run(() => AskAsync<T>(request, CancellationToken.None)).GetAwaiter().GetResult();

    private async Task<T?> AskAsync<T>(RunChannelRequest request, CancellationToken cancellationToken)
    {
        await foreach (var answer in ExchangeAsync(request, cancellationToken).ConfigureAwait(false))
            return Result<T>(answer);
        return default;
    }

    private static T? Result<T>(RunChannelAnswer answer)
    {
        if (answer.Problem is { } problem) throw problem.ToException(problem.Status);
        return answer.Result is { ValueKind: not JsonValueKind.Null } result ? result.Deserialize<T>(ApiJson.Options) : default;
    }

    /// <summary>Sends one request on a connection of its own; yields each answer until the last one.</summary>
    private async IAsyncEnumerable<RunChannelAnswer> ExchangeAsync(RunChannelRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw Unreachable(e.Message);
        }
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await RunChannelFrames.WriteAsync(stream, request, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            RunChannelAnswer? answer;
            try
            {
                answer = await RunChannelFrames.ReadAsync<RunChannelAnswer>(stream, RunChannelFrames.MaxAnswerBytes, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw Unreachable(e.Message);
            }
            if (answer is null) throw Unreachable("the executor closed the channel before answering");
            yield return answer;
            if (!answer.More) yield break;
        }
    }

    private AnalysisRunnerException Unreachable(string why) =>
        new("RunChannelUnavailable", ErrorKind.ResourceUnavailable, SocketPath,
            $"The run channel at {SocketPath} did not answer ({why}); inside a sandboxed job the executor is reached only through it, and only while the job's batch runs.");
}
