using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// A runner home whose jobs run sandboxed (bubblewrap required: the tests fail, never skip, without it),
/// and test-level runs of fewgenomes for the batches a red-team test submits.
/// </summary>
public abstract class SandboxedRunTestBase : IDisposable
{
    protected const string Dataset = "fewgenomes";
    protected readonly TestHome _home = new(sandbox: SandboxMode.Auto);
    protected readonly Deployment _deployment;

    protected SandboxedRunTestBase()
    {
        if (BubblewrapSandbox.Find() is null || BubblewrapSandbox.FindLauncher() is null)
            throw new InvalidOperationException("These tests need bubblewrap (apt-get install bubblewrap) and the launcher built beside the tests (a C compiler at build time).");
        _deployment = Deployment.Open(_home.Home);
    }

    public void Dispose()
    {
        _home.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// A test-level run of fewgenomes in the audit log, as Submit-Analysis records it (its config in the
    /// config store); its batches' tmp root is the scope's tmp bucket, as New-Batch makes it.
    /// </summary>
    protected BatchSpec InRun(BatchSpec spec)
    {
        var arGuid = Guid.NewGuid().ToString();
        var config = Path.Combine(_home.Home.ConfigStoreDirectory, Guid.NewGuid().ToString("N") + ".toml");
        Directory.CreateDirectory(_home.Home.ConfigStoreDirectory);
        File.WriteAllText(config, $"[workflow]\ndataset = \"{Dataset}\"\naccess_level = \"test\"\n");
        var run = new RunRecord
        {
            ArGuid = arGuid, Timestamp = DateTimeOffset.UtcNow, User = Environment.UserName, Dataset = Dataset, AccessLevel = AccessLevel.Test,
            Script = "x", Description = "d", OutputPrefix = "o", OutputDir = "o", ConfigPath = config,
        };
        _deployment.Database.InTransaction((c, t) => new SqliteAuditLog(_deployment.Database).Append(run, c, t));
        return spec with { ArGuid = arGuid, ConfigPath = config, TmpRoot = $"gs://cpg-{Dataset}-test-tmp/batch" };
    }

    protected string Bucket(string name) => Path.Combine(_home.Home.BucketsDirectory, name);
}
