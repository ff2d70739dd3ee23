using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// The script one attempt's shell runs: an EXIT trap that appends the attempt's status to its
/// batch's ledger (so an executor that died meanwhile can still tell this attempt finished, and how,
/// instead of running it again), set -e, then the job's commands.
/// </summary>
internal static class LocalJobScript
{
    public static string For(RunnerHome home, AttemptKey key, string command) => $"""
        # AnalysisRunner batch {key.BatchId} job {key.JobId} attempt {key.Attempt}
        trap {ShellQuoting.Quote(BatchLedger.EndCommand(home, key))} EXIT
        set -e
        {command}

        """;

    /// <summary>The shell's arguments: the script itself (no file to create per job), or a file for one too long to be an argument.</summary>
    public static string[] Arguments(RunnerHome home, AttemptKey key, string script)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(script) <= LocalLayout.LongestInlineScript) return ["-c", script];
        var path = LocalLayout.Script(home, key);
        File.WriteAllText(path, script);
        return [path];
    }
}
