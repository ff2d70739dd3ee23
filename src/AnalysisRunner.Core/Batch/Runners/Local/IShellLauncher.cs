using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// How the local runner puts one attempt's shell in motion, per batch. Today every batch uses
/// JobSpawner (posix_spawn from the executor, a shell in its own session). A per-batch sandbox
/// (issue 13: one bubblewrap per batch running a launcher that starts the batch's jobs inside it)
/// implements this too: Start sends it the attempt (script, environment, cwd, the lanes its output
/// appends to) and Exited comes back from the launcher's answer; Signal reaches the job's process
/// group inside the sandbox. The ledger, the log lanes, recovery and the scheduler stay as they are.
/// </summary>
internal interface IShellLauncher
{
    /// <summary>
    /// Starts the shell; <paramref name="exited"/> gets its exit code (128+signal when killed) and what
    /// it used (null when that is not known: the sandbox was lost) on some thread. Returns what Signal takes.
    /// </summary>
    int Start(SpawnRequest request, Action<int, ProcessUsage?> exited);

    /// <summary>Sends <paramref name="signal"/> to the shell's whole process group.</summary>
    void Signal(int shell, int signal);
}
