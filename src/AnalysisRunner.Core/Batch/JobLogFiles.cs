using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Where one attempt of a job leaves its traces: &lt;home&gt;/logs/&lt;batch&gt;/&lt;job&gt;/&lt;attempt&gt;.out, .err,
/// the script that ran (.sh) and the exit status bash wrote as it ended (.exit), which lets a
/// restarted executor tell a job that finished from one that was cut off.
/// </summary>
public static class JobLogFiles
{
    public static string Directory(RunnerHome home, long batchId, int jobId) =>
        Path.Combine(home.LogsDirectory, batchId.ToString(), jobId.ToString());

    public static JobLogPaths For(RunnerHome home, long batchId, int jobId, int attempt)
    {
        var prefix = Prefix(home, batchId, jobId, attempt);
        return new JobLogPaths(prefix + ".out", prefix + ".err");
    }

    public static string ScriptPath(RunnerHome home, long batchId, int jobId, int attempt) =>
        Prefix(home, batchId, jobId, attempt) + ".sh";

    public static string ExitStatusPath(RunnerHome home, long batchId, int jobId, int attempt) =>
        Prefix(home, batchId, jobId, attempt) + ".exit";

    /// <summary>The exit status an attempt recorded, or null when it never got to record one.</summary>
    public static int? ReadExitStatus(RunnerHome home, long batchId, int jobId, int attempt)
    {
        try
        {
            var text = File.ReadAllText(ExitStatusPath(home, batchId, jobId, attempt)).Trim();
            return int.TryParse(text, out var code) ? code : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static string Prefix(RunnerHome home, long batchId, int jobId, int attempt) =>
        Path.Combine(Directory(home, batchId, jobId), attempt.ToString());
}
