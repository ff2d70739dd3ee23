using System.Diagnostics;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>Everything needed to run one attempt, resolved on the scheduler loop before the Running row is committed.</summary>
internal sealed record LaunchPlan(
    long BatchId,
    int JobId,
    int Attempt,
    string Command,
    string Script,
    string ScriptPath,
    string ExitStatusPath,
    string WorkDirectory,
    string ResourceDirectory,
    CheckoutSpec? Checkout,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<(string Source, string Destination)> Outputs,
    TimeSpan? Timeout);

/// <summary>How an attempt ended: the exit code (null if it never started), why it was stopped, or why it failed around the process.</summary>
internal sealed record AttemptOutcome(int? ExitCode, string? StopReason, string? Error);

/// <summary>
/// One attempt in flight: one bash in its own session, stdout/stderr opened by bash itself onto the
/// log files, an exit noticed through the runtime's SIGCHLD handling (no thread waits per job).
/// </summary>
internal sealed class RunningJob(JobNode node, LaunchPlan plan, TimeSpan killGrace)
{
    public const string Timeout = "Timeout";
    public const string Cancelled = "Cancelled";
    public const string Interrupted = "Interrupted";

    private readonly Lock _gate = new();
    private Process? _process;
    private bool _exited;

    public JobNode Node { get; } = node;
    public LaunchPlan Plan { get; } = plan;
    public double ReservedCpu { get; init; }
    public long ReservedMemory { get; init; }
    public string? StopReason { get; private set; }

    /// <summary>SIGTERM to the job's process group, SIGKILL after the grace period. The first reason given wins.</summary>
    public void Stop(string reason)
    {
        int pid;
        lock (_gate)
        {
            StopReason ??= reason;
            if (_process is null || _exited) return;
            pid = _process.Id;
        }
        ProcessSignals.SignalGroup(pid, ProcessSignals.SigTerm);
        _ = Task.Delay(killGrace).ContinueWith(_ =>
        {
            lock (_gate)
                if (!_exited) ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
        }, TaskScheduler.Default);
    }

    public async Task<AttemptOutcome> RunAsync()
    {
        try
        {
            var cwd = await Task.Run(Prepare);
            using var process = new Process { StartInfo = StartInfo(cwd) };
            lock (_gate)
            {
                if (StopReason is not null) return new AttemptOutcome(null, StopReason, null);
                process.Start();
                _process = process;
            }
            var exited = process.WaitForExitAsync();
            if (Plan.Timeout is { } timeout)
            {
                try { await exited.WaitAsync(timeout); }
                catch (TimeoutException) { Stop(Timeout); }
            }
            await exited;
            lock (_gate) _exited = true;
            var code = process.ExitCode;
            if (code == 0 && StopReason is null && Plan.Outputs.Count > 0)
            {
                var error = await Task.Run(() => CopyOutputs(Plan.Outputs));
                if (error is not null) return new AttemptOutcome(code, null, error);
            }
            return new AttemptOutcome(code, StopReason, null);
        }
        catch (Exception e)
        {
            lock (_gate) _exited = true;
            return new AttemptOutcome(null, StopReason, $"StartFailed: {e.Message}");
        }
    }

    /// <summary>Fresh work folder, the job's resource folder, the log folder and the script; returns the cwd.</summary>
    private string Prepare()
    {
        if (Directory.Exists(Plan.WorkDirectory)) Directory.Delete(Plan.WorkDirectory, recursive: true);
        Directory.CreateDirectory(Plan.WorkDirectory);
        Directory.CreateDirectory(Plan.ResourceDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(Plan.ScriptPath)!);
        File.Delete(Plan.ExitStatusPath);
        File.WriteAllText(Plan.ScriptPath, Plan.Script);
        return Plan.Checkout is { } checkout ? DriverCheckout.Checkout(checkout, Plan.WorkDirectory) : Plan.WorkDirectory;
    }

    private ProcessStartInfo StartInfo(string cwd)
    {
        // setsid execs bash in place (our child is not a group leader), so the pid is also the
        // session and process-group id that Stop signals.
        var info = new ProcessStartInfo("setsid") { WorkingDirectory = cwd, UseShellExecute = false };
        info.ArgumentList.Add("bash");
        info.ArgumentList.Add(Plan.ScriptPath);
        foreach (var (name, value) in Plan.Environment) info.Environment[name] = value;
        return info;
    }

    /// <summary>Copies a succeeded job's outputs; returns why one failed, or null.</summary>
    public static string? CopyOutputs(IReadOnlyList<(string Source, string Destination)> outputs)
    {
        foreach (var (source, destination) in outputs)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                if (Directory.Exists(source)) CopyDirectory(source, destination);
                else File.Copy(source, destination, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"OutputCopyFailed: {source} → {destination}: {e.Message}";
            }
        }
        return null;
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
