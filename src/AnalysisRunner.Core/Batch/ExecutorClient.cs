using System.Diagnostics;
using System.Runtime.InteropServices;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Wakes the executor of a runner home, starting one if none answers. The executor is started
/// fully detached (own session, stdin from /dev/null, output to executor.log), so the caller holds
/// none of its pipes and the batch outlives the caller.
/// </summary>
public sealed class ExecutorClient(RunnerHome home) : IExecutorClient
{
    public const string ExecutorAssembly = "AnalysisRunner.Executor.dll";

    /// <summary>Variables that name a job; an executor started from inside a job must not look like part of it.</summary>
    private static readonly string[] JobVariables = ["AR_BATCH_ID", "AR_JOB_ID", "AR_ATTEMPT"];

    /// <summary>How long an executor that holds the lock but is not listening may take to start listening or to go.</summary>
    private static readonly TimeSpan StartingOrStopping = TimeSpan.FromSeconds(5);

    private (int? ProcessId, DateTime At)? _started;

    public void Wake()
    {
        var socket = ExecutorSocket.PathFor(home);
        if (ExecutorSocket.TrySend(socket, ExecutorSocket.Wake)) return;
        // One that holds the lock but does not answer is starting or on its way out (it looks at the
        // database once more after it stops listening); one this client started a moment ago may
        // not hold the lock yet. Either way it answers or goes in a moment: starting another would
        // cost a runtime start only for it to find the lock taken.
        var deadline = DateTime.UtcNow + StartingOrStopping;
        while ((IsRunning(home) || StartedOneStillStarting()) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
            if (ExecutorSocket.TrySend(socket, ExecutorSocket.Wake)) return;
        }
        _started = (Start(), DateTime.UtcNow);
    }

    /// <summary>The executor this client started a moment ago is alive (it may not hold the lock yet).</summary>
    private bool StartedOneStillStarting() =>
        _started is ({ } pid, var at) && DateTime.UtcNow - at < StartingOrStopping && Directory.Exists($"/proc/{pid}");

    /// <summary>Asks a running executor to stop its jobs (they are retried later as Interrupted) and exit; waits up to <paramref name="timeout"/> for it to go.</summary>
    public bool Stop(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        ExecutorSocket.TrySend(ExecutorSocket.PathFor(home), ExecutorSocket.Stop);
        while (IsRunning(home))
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(50);
        }
        return true;
    }

    /// <summary>Whether an executor holds the home's lock right now.</summary>
    public static bool IsRunning(RunnerHome home)
    {
        if (!File.Exists(home.ExecutorLockPath)) return false;
        using var lockFile = ExecutorHost.TryLock(home);
        return lockFile is null;
    }

    /// <summary>The process id of the running executor, or null when none runs.</summary>
    public static int? RunningProcessId(RunnerHome home)
    {
        if (!IsRunning(home)) return null;
        try { return int.TryParse(File.ReadAllText(ExecutorHost.PidPath(home)), out var pid) ? pid : null; }
        catch (IOException) { return null; }
    }

    /// <summary>Starts a detached executor; returns its process id (null if the shell did not say).</summary>
    private int? Start()
    {
        Directory.CreateDirectory(home.Root);
        var executor = Path.Combine(Path.GetDirectoryName(typeof(ExecutorClient).Assembly.Location)!, ExecutorAssembly);
        if (!File.Exists(executor))
            throw new AnalysisRunnerException("ExecutorNotFound", ErrorKind.ResourceUnavailable, executor,
                $"The executor is not installed beside AnalysisRunner.Core ({executor}).");
        // setsid in a non-interactive shell's background job is not a group leader, so it execs
        // without forking: $! is the executor's own process id.
        var command = "setsid " + ShellQuoting.Join([DotnetHost(), executor, "--home", home.Root])
            + " </dev/null >>" + ShellQuoting.Quote(home.ExecutorLogPath) + " 2>&1"
            + string.Concat(InheritableDescriptors().Select(fd => $" {fd}>&-")) + " & echo $!";
        var info = new ProcessStartInfo(File.Exists("/bin/bash") ? "/bin/bash" : "/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        foreach (var variable in JobVariables) info.Environment.Remove(variable);
        using var shell = Process.Start(info)!;
        var pid = shell.StandardOutput.ReadLine();
        // The shell backgrounds the executor and exits at once; reaping it leaves nothing of ours behind.
        shell.WaitForExit();
        return int.TryParse(pid, out var id) ? id : null;
    }

    /// <summary>
    /// Descriptors above stderr that a child would inherit (no close-on-exec): pipes our own caller
    /// leaked to us. The executor must not keep them open, or whoever reads them waits for it.
    /// </summary>
    internal static IEnumerable<int> InheritableDescriptors()
    {
        const int CloseOnExec = 0x80000; // O_CLOEXEC, as /proc/self/fdinfo reports it in "flags:" (octal)
        if (!Directory.Exists("/proc/self/fdinfo")) return [];
        var descriptors = new List<int>();
        foreach (var file in Directory.EnumerateFiles("/proc/self/fdinfo"))
        {
            if (!int.TryParse(Path.GetFileName(file), out var fd) || fd <= 2) continue;
            try
            {
                var flags = File.ReadLines(file).FirstOrDefault(line => line.StartsWith("flags:", StringComparison.Ordinal));
                if (flags is not null && (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & CloseOnExec) == 0)
                    descriptors.Add(fd);
            }
            catch (IOException) { }
        }
        return descriptors;
    }

    /// <summary>The dotnet host running us (pwsh and test hosts are not it), else the one beside the runtime, else PATH.</summary>
    internal static string DotnetHost()
    {
        var processPath = Environment.ProcessPath;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet") return processPath;
        var besideRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "../../../dotnet"));
        if (File.Exists(besideRuntime)) return besideRuntime;
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (root is not null && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        return "dotnet";
    }
}
