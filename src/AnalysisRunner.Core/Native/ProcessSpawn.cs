using System.Runtime.InteropServices;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>What to start: the program, its argv (after argv[0]), its whole environment ("NAME=value"), where and with which stdio.</summary>
internal sealed record SpawnRequest(string Program, IReadOnlyList<string> Arguments, IReadOnlyList<string> Environment)
{
    public string? WorkingDirectory { get; init; }
    /// <summary>A descriptor of this process that becomes the child's stdin; null opens /dev/null.</summary>
    public SafeHandle? Stdin { get; init; }
    /// <summary>Descriptors of this process that become the child's stdout and stderr; null opens /dev/null.</summary>
    public SafeHandle? Stdout { get; init; }
    public SafeHandle? Stderr { get; init; }
    /// <summary>The files behind Stdout and Stderr, for a launcher that opens them itself (the per-batch sandbox's).</summary>
    public string? StdoutPath { get; init; }
    public string? StderrPath { get; init; }
    /// <summary>A file the child's stdout and stderr are opened onto for appending (when Stdout/Stderr are not given).</summary>
    public string? AppendOutputTo { get; init; }
    /// <summary>The child leads a session of its own (setsid), so signals to our group or terminal never reach it.</summary>
    public bool NewSession { get; init; } = true;
}

/// <summary>
/// posix_spawn: a vfork+exec with no helper process. The child gets stdin from /dev/null, the
/// stdout/stderr asked for, default signal dispositions and an empty mask (the runtime ignores
/// SIGPIPE and blocks some signals), and no other descriptor of ours (closefrom 3), so a caller's
/// leaked pipes never reach it. The calling thread waits only until the child has exec'd.
/// </summary>
internal static unsafe class ProcessSpawn
{
    public static int Start(SpawnRequest request)
    {
        var strings = new List<nint>();
        byte* Native(string s) { var p = Marshal.StringToCoTaskMemUTF8(s); strings.Add(p); return (byte*)p; }
        var argv = (byte**)NativeMemory.AllocZeroed((nuint)request.Arguments.Count + 2, (nuint)sizeof(nint));
        var envp = (byte**)NativeMemory.AllocZeroed((nuint)request.Environment.Count + 1, (nuint)sizeof(nint));
        using var fileActions = new SpawnFileActions();
        using var attributes = new SpawnAttributes();
        var addedStdin = false;
        var addedStdout = false;
        var addedStderr = false;
        try
        {
            if (request.Stdin is not null) request.Stdin.DangerousAddRef(ref addedStdin);
            if (request.Stdout is not null) request.Stdout.DangerousAddRef(ref addedStdout);
            if (request.Stderr is not null) request.Stderr.DangerousAddRef(ref addedStderr);
            var devNull = Native("/dev/null");
            if (request.Stdin is not null)
                Check(posix_spawn_file_actions_adddup2(fileActions, (int)request.Stdin.DangerousGetHandle(), 0), "adddup2 stdin");
            else
                Check(posix_spawn_file_actions_addopen(fileActions, 0, devNull, O_RDONLY, 0), "addopen stdin");
            Redirect(fileActions, 1, request.Stdout, request.AppendOutputTo is { } log1 ? Native(log1) : devNull, request.AppendOutputTo is not null);
            Redirect(fileActions, 2, request.Stderr, request.AppendOutputTo is { } log2 ? Native(log2) : devNull, request.AppendOutputTo is not null);
            Check(posix_spawn_file_actions_addclosefrom_np(fileActions, 3), "addclosefrom");
            if (request.WorkingDirectory is { } cwd) Check(posix_spawn_file_actions_addchdir_np(fileActions, Native(cwd)), "addchdir");
            sigfillset(out var all);
            Check(posix_spawnattr_setsigdefault(attributes, all), "setsigdefault");
            sigemptyset(out var none);
            Check(posix_spawnattr_setsigmask(attributes, none), "setsigmask");
            var flags = (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (request.NewSession ? POSIX_SPAWN_SETSID : 0));
            Check(posix_spawnattr_setflags(attributes, flags), "setflags");
            argv[0] = Native(Path.GetFileName(request.Program));
            for (var i = 0; i < request.Arguments.Count; i++) argv[i + 1] = Native(request.Arguments[i]);
            for (var i = 0; i < request.Environment.Count; i++) envp[i] = Native(request.Environment[i]);
            var result = posix_spawn(out var pid, Native(request.Program), fileActions, attributes, argv, envp);
            Check(result, "posix_spawn " + request.Program);
            return pid;
        }
        finally
        {
            if (addedStdin) request.Stdin!.DangerousRelease();
            if (addedStdout) request.Stdout!.DangerousRelease();
            if (addedStderr) request.Stderr!.DangerousRelease();
            NativeMemory.Free(argv);
            NativeMemory.Free(envp);
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    private static void Redirect(SpawnFileActions fileActions, int target, SafeHandle? descriptor, byte* path, bool append)
    {
        if (descriptor is not null)
            Check(posix_spawn_file_actions_adddup2(fileActions, (int)descriptor.DangerousGetHandle(), target), "adddup2");
        else
            Check(posix_spawn_file_actions_addopen(fileActions, target, path, append ? O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW : O_WRONLY, 0x1A4), "addopen");
    }

    private static void Check(int result, string what)
    {
        if (result != 0) throw Failure(what, result);
    }
}
