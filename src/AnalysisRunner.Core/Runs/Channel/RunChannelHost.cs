using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// Makes run channels for the executor: each batch of a run that runs in a sandbox gets a socket of
/// its own, in a folder only this executor's account can enter (made fresh, with a random name, so
/// nothing another process prepared is reused), and bound into that batch's sandbox alone at
/// <see cref="RunChannel.SandboxPath"/>. Whose batch it is comes from the run its sealed spec named and
/// the planner verified (AttemptLaunch.ArGuid), read from the log again here once, when its sandbox
/// starts: never from the batch row's ar_guid column, which is not what the seal covers.
/// </summary>
internal sealed class RunChannelHost(Deployment deployment) : IDisposable
{
    private readonly Lock _gate = new();
    private string? _folder;

    /// <summary>A listening channel for <paramref name="batchId"/> of run <paramref name="arGuid"/>, or null for a batch of no run (it then gets none).</summary>
    public RunChannelServer? Open(long batchId, string? arGuid)
    {
        if (arGuid is null) return null;
        var spec = new BatchSpec { Name = "", ArGuid = arGuid, TmpRoot = "/", Jobs = [] };
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
