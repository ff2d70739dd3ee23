using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// What the storage cmdlets share: the scope (-Dataset/-AccessLevel, the job's run, or the bucket's
/// own name), parsing paths the user typed, and waiting on Core's I/O with Write-Progress.
/// </summary>
public abstract class StorageCmdlet : AnalysisRunnerCmdlet
{
    /// <summary>The dataset whose buckets to use; inside a job the run's, else the bucket name's.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(DatasetCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Dataset { get; set; }

    /// <summary>test: the test buckets; standard/full: the main ones (only full deletes there).</summary>
    [Parameter]
    [ValidateSet("test", "standard", "full", IgnoreCase = true)]
    public string? AccessLevel { get; set; }

    /// <summary>A server address: list and read through it, with the scope of AR_TOKEN's (or the stored token's) user.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    private readonly Dictionary<string, ScopedObjectStore> _stores = new(StringComparer.Ordinal);
    private (Core.Runs.RunRecord? Run, string User)? _caller;
    private RunnerTarget? _target;
    private IStorageReader? _reader;

    /// <summary>
    /// Where this command's storage is, decided once as for runs and batches (<see cref="RunnerTarget.Choose"/>),
    /// except inside a job: there its run's capability decides the scope, so only an explicit -Server leaves the home.
    /// </summary>
    private RunnerTarget Target => _target ??= InsideJob() && string.IsNullOrWhiteSpace(Server)
        ? new RunnerTarget.Embedded(Core.Hosting.RunnerHome.Resolve(RunnerHome))
        : RunnerTarget.Choose(Server, RunnerHome, ClientSettings.ForCurrentUser());

    private static bool InsideJob() =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Core.Runs.RunTokens.Variable)) ||
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Core.Runs.Channel.RunChannel.Variable));

    /// <summary>Listing and reading, in this process over the runner home or through the server.</summary>
    protected IStorageReader Reader => _reader ??= Target switch
    {
        RunnerTarget.Remote remote => new HttpStorageReader(remote.Connection, Dataset, AccessLevel is null ? null : AccessLevelNames.Parse(AccessLevel)),
        _ => new ScopedStorageReader(StoreFor),
    };

    /// <summary>
    /// Writes and deletes are not offered over a server: a command that changes buckets says so rather
    /// than quietly changing a local runner home's buckets instead of the server's.
    /// </summary>
    protected void RefuseWritesOverServer(string command)
    {
        if (Target is RunnerTarget.Remote remote)
            throw new StorageException("StorageWriteNotOverServer", ErrorKind.InvalidOperation, remote.Connection.Server.ToString(),
                $"{command} does not work through the server {remote.Connection.Server}: the server lists and reads buckets " +
                "(Get-StorageItem, Get-StorageContent) but does not write or delete. Write from a job of a run (Submit-Analysis), " +
                "where the run's scope applies, or give -RunnerHome to use a runner home on this machine.");
    }

    /// <summary>
    /// The scoped store for <paramref name="path"/>: one per bucket, since each path of one call may
    /// be in another dataset's bucket and must be checked against its own scope. Inside a job the
    /// run's verified capability decides (AR_RUN_TOKEN), else the caller's membership.
    /// </summary>
    protected ScopedObjectStore StoreFor(StorageUri path)
    {
        _caller ??= (Await(Deployment.CurrentRunAsync(PipelineStopped)), Deployment.EmbeddedCaller().User);
        var key = path.Scheme == StorageScheme.Gs ? path.Bucket : "";
        if (!_stores.TryGetValue(key, out var store))
            _stores[key] = store = new StorageAccess(Deployment).For(path, Dataset,
                AccessLevel is null ? null : AccessLevelNames.Parse(AccessLevel), _caller.Value.User, _caller.Value.Run);
        return store;
    }

    /// <summary>gs://…, file://…, or a path relative to the current location (bucket folders of the local backend become gs://).</summary>
    protected StorageUri ParsePath(string path)
    {
        var absolute = path.Contains("://", StringComparison.Ordinal) || path.StartsWith('/')
            ? path
            : ResolveUserPath(path) + (path.EndsWith('/') ? "/" : "");
        // Through a server there is no local runner home whose bucket folders could be named: the path is as typed.
        return Target is RunnerTarget.Remote ? StorageUri.Parse(absolute) : Deployment.ParseLocation(absolute);
    }

    /// <summary>Waits for Core's work on the pipeline thread, reporting bytes done as Write-Progress.</summary>
    protected T Wait<T>(Func<IProgress<long>, Task<T>> work, string activity, string what, long totalBytes, int activityId = 1)
    {
        var progress = new LatestValue();
        var task = work(progress);
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromMilliseconds(250)))
        {
            var done = progress.Value;
            WriteProgress(new ProgressRecord(activityId, activity, $"{what}: {Bytes(done)} of {Bytes(totalBytes)}")
            {
                PercentComplete = totalBytes > 0 ? (int)Math.Min(100, done * 100 / totalBytes) : -1,
            });
        }
        WriteProgress(new ProgressRecord(activityId, activity, what) { RecordType = ProgressRecordType.Completed });
        return Unwrap(task);
    }

    /// <summary>Waits at the edge; Core's exceptions come out as themselves, for the base class to map.</summary>
    protected static T Run<T>(Task<T> task) => Unwrap(task);

    protected static void Run(Task task) => task.GetAwaiter().GetResult();

    private static T Unwrap<T>(Task<T> task) => task.GetAwaiter().GetResult();

    protected override void EndProcessing()
    {
        _reader?.Dispose();
        base.EndProcessing();
    }

    private static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{n / 1024.0:0.0} KiB",
        _ => $"{n} B",
    };

    /// <summary>Progress reports arrive on I/O threads; the pipeline thread only reads the latest.</summary>
    private sealed class LatestValue : IProgress<long>
    {
        private long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Report(long value) => Interlocked.Exchange(ref _value, value);
    }
}
