using System.Runtime.InteropServices;
using System.Text;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// Starts job shells with posix_spawn (a vfork+exec, no setsid or other helper process) in their own
/// session, with stdio opened onto the log files by the spawn itself, and reaps them on one thread
/// that blocks in waitid. The reaper sees each exit while the shell is still a zombie, so killing
/// what is left of its process group can never hit a recycled process id.
/// </summary>
internal sealed unsafe class JobSpawner
{
    private const int PosixSpawnSetSigDef = 0x04, PosixSpawnSetSigMask = 0x08, PosixSpawnSetSid = 0x80;
    private const int ORdOnly = 0, OWrOnly = 1, OCreat = 0x40, OTrunc = 0x200;
    private const int PAll = 0, PPid = 1, WExited = 4, WNoWait = 0x01000000;
    private const int ClaExited = 1;
    internal const int EIntr = 4, EChild = 10;

    public const string DefaultShell = "bash";

    private readonly object _gate = new();
    private readonly Dictionary<int, Action<int>> _exits = [];
    private readonly Dictionary<string, string?> _shells = [];

    public JobSpawner()
    {
        new Thread(Reap) { IsBackground = true, Name = "job reaper" }.Start();
    }

    /// <summary>The path of a job's shell (bash when it names none), found once per name; null when there is no such program.</summary>
    public string? FindShell(string? shell)
    {
        shell ??= DefaultShell;
        lock (_shells)
        {
            if (!_shells.TryGetValue(shell, out var path))
                _shells[shell] = path = shell.StartsWith('/') ? (File.Exists(shell) ? shell : null) : FindOnPath(shell);
            return path;
        }
    }

    /// <summary>Starts `<paramref name="shell"/> <paramref name="arguments"/>` in <paramref name="cwd"/>; <paramref name="exited"/> gets the exit code (128+signal when killed) on the reaper thread.</summary>
    public int Spawn(string shell, string cwd, IReadOnlyList<string> arguments, string stdout, string stderr, IReadOnlyList<string> environment, Action<int> exited)
    {
        var strings = new List<nint>();
        nint Native(string s) { var p = Marshal.StringToCoTaskMemUTF8(s); strings.Add(p); return p; }
        var fileActions = NativeMemory.AllocZeroed(512);
        var attributes = NativeMemory.AllocZeroed(1024);
        var signals = NativeMemory.AllocZeroed(256);
        var argv = (byte**)NativeMemory.AllocZeroed((nuint)arguments.Count + 2, (nuint)sizeof(nint));
        var envp = (byte**)NativeMemory.AllocZeroed((nuint)environment.Count + 1, (nuint)sizeof(nint));
        try
        {
            Check(posix_spawn_file_actions_init(fileActions), "file_actions_init");
            Check(posix_spawn_file_actions_addopen(fileActions, 0, (byte*)Native("/dev/null"), ORdOnly, 0), "addopen stdin");
            Check(posix_spawn_file_actions_addopen(fileActions, 1, (byte*)Native(stdout), OWrOnly | OCreat | OTrunc, 0x1A4), "addopen stdout");
            Check(posix_spawn_file_actions_addopen(fileActions, 2, (byte*)Native(stderr), OWrOnly | OCreat | OTrunc, 0x1A4), "addopen stderr");
            Check(posix_spawn_file_actions_addchdir_np(fileActions, (byte*)Native(cwd)), "addchdir");
            Check(posix_spawnattr_init(attributes), "attr_init");
            // The runtime ignores SIGPIPE and blocks some signals; a job's shell gets the defaults.
            sigfillset(signals);
            Check(posix_spawnattr_setsigdefault(attributes, signals), "setsigdefault");
            sigemptyset(signals);
            Check(posix_spawnattr_setsigmask(attributes, signals), "setsigmask");
            Check(posix_spawnattr_setflags(attributes, (short)(PosixSpawnSetSid | PosixSpawnSetSigDef | PosixSpawnSetSigMask)), "setflags");
            argv[0] = (byte*)Native(Path.GetFileName(shell));
            for (var i = 0; i < arguments.Count; i++) argv[i + 1] = (byte*)Native(arguments[i]);
            for (var i = 0; i < environment.Count; i++) envp[i] = (byte*)Native(environment[i]);

            fixed (byte* path = Utf8(shell))
            {
                lock (_gate)
                {
                    int pid;
                    Check(posix_spawn(&pid, path, fileActions, attributes, argv, envp), "posix_spawn");
                    // Registered before the reaper can look it up: it takes this lock first.
                    _exits[pid] = exited;
                    Monitor.Pulse(_gate);
                    return pid;
                }
            }
        }
        finally
        {
            posix_spawn_file_actions_destroy(fileActions);
            posix_spawnattr_destroy(attributes);
            NativeMemory.Free(fileActions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            NativeMemory.Free(argv);
            NativeMemory.Free(envp);
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    private void Reap()
    {
        var info = stackalloc byte[256];
        while (true)
        {
            new Span<byte>(info, 256).Clear();
            if (waitid(PAll, 0, info, WExited | WNoWait) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                ReapWait next;
                lock (_gate)
                {
                    next = AfterWaitFailed(errno, _exits.Count > 0);
                    if (next == ReapWait.UntilSpawn) Monitor.Wait(_gate);
                }
                // Not while holding the lock: a spawn must never wait for the reaper's back-off.
                if (next == ReapWait.BackOff) Thread.Sleep(10);
                continue;
            }
            var pid = *(int*)(info + 16);
            var code = *(int*)(info + 8) == ClaExited ? *(int*)(info + 24) : 128 + *(int*)(info + 24);
            Action<int>? callback;
            lock (_gate) _exits.Remove(pid, out callback);
            // The callback marks the job ended before the zombie goes, so no later signal is sent to its group.
            callback?.Invoke(code);
            // Whatever the job left running in its session goes with it.
            ProcessSignals.SignalGroup(pid, ProcessSignals.SigKill);
            new Span<byte>(info, 256).Clear();
            while (waitid(PPid, pid, info, WExited) != 0 && Marshal.GetLastPInvokeError() == EIntr) { }
        }
    }

    internal enum ReapWait { Retry, UntilSpawn, BackOff }

    /// <summary>What the reaper does when waitid fails with <paramref name="errno"/>.</summary>
    internal static ReapWait AfterWaitFailed(int errno, bool anyRegistered)
    {
        if (errno == EChild) return anyRegistered ? ReapWait.Retry : ReapWait.UntilSpawn; // no children: sleep until the next spawn
        return errno == EIntr ? ReapWait.Retry : ReapWait.BackOff;
    }

    private static void Check(int result, string what)
    {
        if (result != 0) throw new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(result)} ({result})");
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s + "\0");

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    [DllImport("libc", SetLastError = true)] private static extern int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_init(void* fileActions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_destroy(void* fileActions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addopen(void* fileActions, int fd, byte* path, int flags, int mode);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addchdir_np(void* fileActions, byte* path);
    [DllImport("libc")] private static extern int posix_spawnattr_init(void* attributes);
    [DllImport("libc")] private static extern int posix_spawnattr_destroy(void* attributes);
    [DllImport("libc")] private static extern int posix_spawnattr_setflags(void* attributes, short flags);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigdefault(void* attributes, void* signals);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigmask(void* attributes, void* signals);
    [DllImport("libc")] private static extern int sigfillset(void* signals);
    [DllImport("libc")] private static extern int sigemptyset(void* signals);
    [DllImport("libc", SetLastError = true)] private static extern int waitid(int idType, int id, void* info, int options);
}
