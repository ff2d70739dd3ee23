using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// Makes run channels for the executor: each batch of a run that runs in a sandbox gets a socket of
/// its own, in a folder only this executor's account can enter (made fresh, with a random name, so
/// nothing another process prepared is reused), and bound into that batch's sandbox alone at
/// <see cref="RunChannel.SandboxPath"/>. Who the batch is comes from its stored record and the audit
/// log, read here once, when its sandbox starts.
/// </summary>
internal sealed class RunChannelHost(Deployment deployment) : IDisposable
{
    private readonly Lock _gate = new();
    private string? _folder;

    /// <summary>A listening channel for <paramref name="batchId"/>, or null when the batch belongs to no run (it then gets none).</summary>
    public RunChannelServer? Open(long batchId)
    {
        var batch = deployment.Batches.GetBatch(batchId);
        if (batch?.ArGuid is null) return null;
        var spec = new BatchSpec { Name = batch.Name, ArGuid = batch.ArGuid, TmpRoot = "/", Jobs = [] };
        var run = BatchScope.Of(spec, deployment.LoggedRuns).Run!;
        string path;
        lock (_gate)
        {
            _folder ??= Directory.CreateTempSubdirectory("ar-run-").FullName;   // mode 0700
            path = Path.Combine(_folder, batchId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".sock");
        }
        File.Delete(path);
        return new RunChannelServer(new RunChannelService(deployment, batchId, run), path);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_folder is null) return;
            try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
            _folder = null;
        }
    }
}
