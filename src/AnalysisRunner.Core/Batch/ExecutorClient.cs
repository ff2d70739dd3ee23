using System.Runtime.InteropServices;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Wakes the executor of a runner home, starting one if none answers. The executor is started
/// fully detached with the code base's own posix_spawn (own session, stdin from /dev/null, output
/// appended to executor.log, none of our descriptors), so the caller holds none of its pipes and the
/// batch outlives the caller.
/// </summary>
public sealed class ExecutorClient(RunnerHome home) : IExecutorClient
{
    public const string ExecutorAssembly = "AnalysisRunner.Executor.dll";

    /// <summary>
    /// The executor program: the one installed beside this assembly. The xunit suite points it at the
    /// module's published, precompiled one (its assembly initializer), so the hundreds of executors it
    /// starts do not each compile themselves again (about half of an executor's start-up CPU).
    /// </summary>
    internal static string ExecutorPath { get; set; } =
        Path.Combine(Path.GetDirectoryName(typeof(ExecutorClient).Assembly.Location)!, ExecutorAssembly);

    /// <summary>The folder executors start from (and so their sandbox launcher, and what their sandboxes show of the module).</summary>
    public static string ExecutorFolder => Path.GetDirectoryName(ExecutorPath)!;

    /// <summary>
    /// Starts executors from the built module in <paramref name="moduleFolder"/> (the AnalysisRunner folder
    /// holding AnalysisRunner.psd1) rather than beside this assembly: a host that is not the module (the
    /// server) has its jobs and drivers see that module (PSModulePath and, sandboxed, the folder bound) as
    /// an in-process run's do, so Add-BatchJob and Submit-Batch work in a driver.
    /// </summary>
    public static void UseModule(string moduleFolder)
    {
        var executor = Path.Combine(Path.GetFullPath(moduleFolder), ExecutorAssembly);
        if (!File.Exists(Path.Combine(Path.GetFullPath(moduleFolder), "AnalysisRunner.psd1")) || !File.Exists(executor))
            throw new AnalysisRunnerException("ModuleNotFound", ErrorKind.ObjectNotFound, moduleFolder,
                $"'{moduleFolder}' is not a built AnalysisRunner module (no AnalysisRunner.psd1 and {ExecutorAssembly} in it); build it with build.ps1 -Task Build (artifacts/module/AnalysisRunner).");
        ExecutorPath = executor;
    }

    /// <summary>
    /// Variables that name a job or its run; an executor started from inside a job must not look like
    /// part of it, nor hold (and so pass on to other batches' jobs) that run's capability.
    /// </summary>
    private static readonly string[] JobVariables =
        [JobEnvironment.BatchVariable, JobEnvironment.JobVariable, JobEnvironment.AttemptVariable, JobEnvironment.ConfigVariable, Runs.RunTokens.Variable, Runs.Channel.RunChannel.Variable];

    /// <summary>How long an executor that holds the lock but is not listening may take to start listening or to go.</summary>
    private static readonly TimeSpan StartingOrStopping = TimeSpan.FromSeconds(10);

    private ProcessHandle? _started;

    public void Wake()
    {
        var socket = ExecutorSocket.PathFor(home);
        if (ExecutorSocket.TrySend(socket, ExecutorSocket.Wake)) return;
        // One that holds the lock but does not answer is starting or on its way out (it looks at the
        // database once more after it stops listening); one this client started a moment ago may
        // not hold the lock yet. Either way it answers or goes in a moment: starting another would
        // cost a runtime start only for it to find the lock taken.
        Directory.CreateDirectory(home.Root);
        var answered = false;
        ExecutorPresence.WaitUntil(home,
            () => (answered = ExecutorSocket.TrySend(socket, ExecutorSocket.Wake)) || !(IsRunning(home) || StartedOneStillStarting()),
            StartingOrStopping, StartedOneStillStarting() ? _started : null);
        if (answered) return;
        // The new one reads the database when it starts: what was committed before now is seen.
        _started?.Dispose();
        _started = Start();
    }

    /// <summary>The executor this client started is alive (it may not hold the lock yet).</summary>
    private bool StartedOneStillStarting() => _started is { HasExited: false };

    /// <summary>Asks a running executor to stop its jobs (they are retried later as Interrupted) and exit; waits up to <paramref name="timeout"/> for it to go.</summary>
    public bool Stop(TimeSpan? timeout = null)
    {
        var socket = ExecutorSocket.PathFor(home);
        // One this client started a moment ago may not hold the lock nor listen yet: it is asked again
        // once its socket appears, and waited for until it is gone, so nothing of it outlives the stop.
        return ExecutorPresence.WaitUntil(home, () =>
            {
                ExecutorSocket.TrySend(socket, ExecutorSocket.Stop);
                return !IsRunning(home) && !StartedOneStillStarting();
            },
            timeout ?? TimeSpan.FromSeconds(30), StartedOneStillStarting() ? _started : null);
    }

    /// <summary>Whether an executor holds the home's lock right now.</summary>
    public static bool IsRunning(RunnerHome home) => ExecutorPresence.IsRunning(home);

    /// <summary>The process id of the running executor, or null when none runs.</summary>
    public static int? RunningProcessId(RunnerHome home) => IsRunning(home) ? ExecutorPresence.ProcessId(home) : null;

    /// <summary>Starts a detached executor; returns a handle on it (null if it is gone already).</summary>
    private ProcessHandle? Start()
    {
        var executor = ExecutorPath;
        if (!File.Exists(executor))
            throw new AnalysisRunnerException("ExecutorNotFound", ErrorKind.ResourceUnavailable, executor,
                $"The executor is not installed beside AnalysisRunner.Core ({executor}).");
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            if (!JobVariables.Contains((string)entry.Key)) environment.Add($"{entry.Key}={entry.Value}");
        var pid = ProcessSpawn.Start(new SpawnRequest(DotnetHost(), [executor, "--home", home.Root], environment)
        {
            AppendOutputTo = home.ExecutorLogPath,
        });
        var handle = ProcessHandle.TryOpen(pid);
        // It is our child until it exits: reaped by a thread that waits for it, so no zombie is left while this process lives.
        new Thread(() => Reap(pid)) { IsBackground = true, Name = "executor reaper" }.Start();
        return handle;
    }

    private static void Reap(int pid)
    {
        while (NativeMethods.waitid(NativeMethods.P_PID, pid, out _, NativeMethods.WEXITED) != 0
               && Marshal.GetLastPInvokeError() == NativeMethods.EINTR) { }
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
        return JobSpawnerPath("dotnet");
    }

    private static string JobSpawnerPath(string name) => Runners.Local.JobSpawner.FindOnPath(name) ?? name;
}
