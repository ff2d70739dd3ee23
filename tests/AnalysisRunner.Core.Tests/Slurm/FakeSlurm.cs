using System.Collections.Concurrent;
using System.Threading.Channels;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Slurm;

namespace AnalysisRunner.Core.Tests.Slurm;

/// <summary>
/// Slurm as the runner sees it through ISlurmCommands, held in memory: tests move jobs between states,
/// purge them from the "controller" (so only sacct knows them), refuse submissions and hold sbatch at a gate.
/// </summary>
internal sealed class FakeSlurm : ISlurmCommands
{
    public sealed class Job
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required SbatchRequest Request { get; init; }
        public required string Script { get; init; }
        public string State { get; set; } = "PENDING";
        public int? ExitCode { get; set; }
        public bool Purged { get; set; }
        public string? Reason { get; set; }
    }

    private readonly Lock _gate = new();
    private int _next = 100;

    public ConcurrentDictionary<string, Job> Jobs { get; } = new();
    public Channel<Job> Submitted { get; } = Channel.CreateUnbounded<Job>();
    public Channel<string> Cancelled { get; } = Channel.CreateUnbounded<string>();
    public Channel<SbatchRequest> Entered { get; } = Channel.CreateUnbounded<SbatchRequest>();
    public List<SlurmNode> NodeList { get; } = [new("n1", 2, 4000, 0)];

    /// <summary>When set, sbatch fails with this message (as Slurm words it).</summary>
    public string? Refusal { get; set; }

    /// <summary>The next sbatch calls fail with these messages, one each, as when the controller is away (SlurmSubmitUnavailable).</summary>
    public ConcurrentQueue<string> Unavailable { get; } = new();

    /// <summary>With Unavailable: the failing sbatch had queued the job all the same (a reply lost to a timeout).</summary>
    public bool QueuesDespiteTimeout { get; set; }

    /// <summary>How many times sbatch was called.</summary>
    public int SubmitCalls => _submitCalls;
    private int _submitCalls;

    /// <summary>When set, sbatch waits here before it answers (a submission in flight).</summary>
    public SemaphoreSlim? SubmitGate { get; set; }

    /// <summary>Called as a job is submitted, before Submit returns (a crash right after sbatch answered).</summary>
    public Action<Job>? OnSubmit { get; set; }

    public string Submit(SbatchRequest request)
    {
        Entered.Writer.TryWrite(request);
        SubmitGate?.Wait();
        Interlocked.Increment(ref _submitCalls);
        if (Refusal is { } refusal)
            throw new SlurmCommandException("SlurmSubmitRefused", ErrorKind.InvalidArgument, request.ScriptPath, "sbatch refused the job: " + refusal);
        if (Unavailable.TryDequeue(out var away))
        {
            if (QueuesDespiteTimeout) Queued(request);
            throw new SlurmCommandException(SlurmTransientErrors.ErrorId, ErrorKind.ResourceUnavailable, request.ScriptPath, "sbatch could not reach Slurm: " + away);
        }
        return Queued(request).Id;
    }

    private Job Queued(SbatchRequest request)
    {
        string id;
        lock (_gate) id = (_next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var name = request.Options.Single(o => o.StartsWith("--job-name=", StringComparison.Ordinal))["--job-name=".Length..];
        var job = new Job { Id = id, Name = name, Request = request, Script = File.ReadAllText(request.ScriptPath) };
        Jobs[id] = job;
        OnSubmit?.Invoke(job);
        Submitted.Writer.TryWrite(job);
        return job;
    }

    public IReadOnlyList<SlurmJobStatus> Queue(string namePrefix)
    {
        lock (_gate)
            return Jobs.Values.Where(j => !j.Purged && j.Name.StartsWith(namePrefix, StringComparison.Ordinal))
                .Select(j => new SlurmJobStatus(j.Id, j.State, j.ExitCode, j.Name, j.Reason ?? "None")).ToList();
    }

    public SlurmJobStatus? Completed(string jobId)
    {
        lock (_gate)
            return Jobs.TryGetValue(jobId, out var j) && SlurmJobStates.HasEnded(j.State) ? new SlurmJobStatus(j.Id, j.State, j.ExitCode, j.Name) : null;
    }

    public void Cancel(IReadOnlyCollection<string> jobIds)
    {
        foreach (var id in jobIds)
        {
            lock (_gate)
                if (Jobs.TryGetValue(id, out var j) && !SlurmJobStates.HasEnded(j.State))
                {
                    j.State = "CANCELLED";
                    j.ExitCode = 143;
                }
            Cancelled.Writer.TryWrite(id);
        }
    }

    public IReadOnlyList<SlurmNode> Nodes(string? partition) => NodeList;

    /// <summary>sacct's answer for usage, per job id; none (no accounting) unless a test sets one.</summary>
    public ConcurrentDictionary<string, ProcessUsage> Accounting { get; } = new();

    public ProcessUsage? Usage(string jobId) => Accounting.TryGetValue(jobId, out var usage) ? usage : null;

    public void Set(string id, string state, int? exitCode = null, string? reason = null)
    {
        lock (_gate)
        {
            Jobs[id].State = state;
            Jobs[id].ExitCode = exitCode;
            Jobs[id].Reason = reason;
        }
    }

    public void Purge(string id)
    {
        lock (_gate) Jobs[id].Purged = true;
    }
}
