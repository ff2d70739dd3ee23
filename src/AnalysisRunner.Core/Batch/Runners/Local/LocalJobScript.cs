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
        // Never through a link nor over another file (O_CREAT|O_EXCL|O_NOFOLLOW), in a folder made without following links.
        Native.LinkFreePaths.CreateFolder(LocalLayout.Scripts(home, key.BatchId), home.Root);
        var path = LocalLayout.Script(home, key);
        using (var file = Native.LinkFreePaths.CreateNew(path))
        using (var writer = new StreamWriter(file, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            writer.Write(script);
        return [path];
    }
}
