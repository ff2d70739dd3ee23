using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Runs.Channel;
using AnalysisRunner.Core.Tests.Executor;

namespace AnalysisRunner.Core.Tests.Runs;

/// <summary>A runner home with a run-channel host, and logged runs with a batch each: what a run channel is made for.</summary>
public abstract class RunChannelTestBase : IDisposable
{
    protected const string Dataset = "fewgenomes";
    protected readonly TestHome _home = new();
    protected readonly Deployment _deployment;
    private protected readonly RunChannelHost _host;

    protected RunChannelTestBase()
    {
        _deployment = Deployment.Open(_home.Home);
        _host = new RunChannelHost(_deployment);
    }

    /// <summary>The batch's channel as the executor opens it: for the run its stored spec names (which the planner verified).</summary>
    private protected async Task<RunChannelServer?> OpenChannelAsync(long batchId) => _host.Open(batchId, (await _deployment.Batches.GetBatchAsync(batchId))?.ArGuid);

    public void Dispose()
    {
        _host.Dispose();
        _home.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A logged test-level run and one batch of it, stored as the executor would find them.</summary>
    protected async Task<(RunRecord Run, long BatchId)> RunWithBatchAsync()
    {
        var config = Path.Combine(_home.Home.ConfigStoreDirectory, Guid.NewGuid().ToString("N") + ".toml");
        Directory.CreateDirectory(_home.Home.ConfigStoreDirectory);
        File.WriteAllText(config, $"[workflow]\ndataset = \"{Dataset}\"\naccess_level = \"test\"\n");
        var run = new RunRecord
        {
            ArGuid = Guid.NewGuid().ToString(), Timestamp = DateTimeOffset.UtcNow, User = "tester@example.org", Dataset = Dataset,
            AccessLevel = AccessLevel.Test, Script = "x", Description = "d", OutputPrefix = "o", OutputDir = "o", ConfigPath = config,
        };
        _deployment.Database.InTransaction((c, t) => new SqliteAuditLog(_deployment.Database).Append(run, c, t));
        var logged = _deployment.AuditLog.Query(new Core.Log.LogQuery { ArGuid = run.ArGuid, First = 1 }).Single();
        var batchId = await _home.Store.SubmitAsync(_home.Batch(TestHome.Job(0, "true")) with { ArGuid = run.ArGuid, ConfigPath = config });
        return (logged, batchId);
    }
}
