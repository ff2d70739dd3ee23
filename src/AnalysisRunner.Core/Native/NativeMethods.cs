using System.Runtime.InteropServices;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// Every call into libc, in one place (as LibGit2Sharp's Core/NativeMethods does): named structs
/// instead of raw offsets, SafeHandles for what must be freed or closed, the constants of Linux
/// x86-64 and glibc (2.36 or later: pidfd_open, posix_spawn_file_actions_addclosefrom_np). Nothing
/// outside this folder declares a DllImport.
/// </summary>
internal static unsafe class NativeMethods
{
    private const string Libc = "libc";

    public const int EINTR = 4, ESRCH = 3, ECHILD = 10, EAGAIN = 11, ENOENT = 2, ELOOP = 40, EEXIST = 17, ENOTDIR = 20, EISDIR = 21;
    public const int SIGKILL = 9, SIGTERM = 15;

    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400, O_CLOEXEC = 0x80000,
        O_EXCL = 0x80, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000;

    public const int AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200;
    public const uint RENAME_NOREPLACE = 1;
    public const uint S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFLNK = 0xA000, S_IFIFO = 0x1000;

    /// <summary>struct stat (x86-64, 144 bytes): the type and permission bits, the size and the modification time.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 144)]
    public struct FileStatus
    {
        [FieldOffset(24)] public uint Mode;
        [FieldOffset(48)] public long Size;
        [FieldOffset(88)] public long ModifiedSeconds;
        [FieldOffset(96)] public long ModifiedNanoseconds;
    }

    public const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;

    public const int P_ALL = 0, P_PID = 1, WEXITED = 4, WNOWAIT = 0x01000000;
    public const int CLD_EXITED = 1;

    public const short POLLIN = 0x1;

    public const int LOCK_EX = 2, LOCK_NB = 4;

    public const int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;
    public const uint IN_MODIFY = 0x2, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200;

    /// <summary>siginfo_t as waitid fills it for a child's state change (the SIGCHLD member of its union).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    public struct ChildSignalInfo
    {
        [FieldOffset(0)] public int Signal;
        [FieldOffset(4)] public int Errno;
        /// <summary>CLD_EXITED when Status is an exit code; otherwise Status is the signal that ended it.</summary>
        [FieldOffset(8)] public int Code;
        [FieldOffset(16)] public int Pid;
        [FieldOffset(20)] public int Uid;
        [FieldOffset(24)] public int Status;
    }

    /// <summary>struct rusage (x86-64): two timevals, then fourteen longs of which ru_maxrss (KiB) is the first.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    public struct ResourceUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxResidentKilobytes;
    }

    /// <summary>sigset_t: 1024 bits.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    public struct SignalSet { }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [DllImport(Libc, SetLastError = true)] public static extern int posix_spawn(out int pid, byte* path, SpawnFileActions fileActions, SpawnAttributes attributes, byte** argv, byte** envp);
    [DllImport(Libc)] public static extern int posix_spawn_file_actions_init(nint fileActions);
    [DllImport(Libc)] public static extern int posix_spawn_file_actions_destroy(nint fileActions);
    [DllImport(Libc)] public static extern int posix_spawn_file_actions_addopen(SpawnFileActions fileActions, int fd, byte* path, int flags, int mode);
    [DllImport(Libc)] public static extern int posix_spawn_file_actions_adddup2(SpawnFileActions fileActions, int fd, int newFd);
    [DllImport(Libc)] public static extern int posix_spawn_file_actions_addchdir_np(SpawnFileActions fileActions, byte* path);
    [DllImport(Libc)] public static extern int posix_spawn_file_actions_addclosefrom_np(SpawnFileActions fileActions, int fromFd);
    [DllImport(Libc)] public static extern int posix_spawnattr_init(nint attributes);
    [DllImport(Libc)] public static extern int posix_spawnattr_destroy(nint attributes);
    [DllImport(Libc)] public static extern int posix_spawnattr_setflags(SpawnAttributes attributes, short flags);
    [DllImport(Libc)] public static extern int posix_spawnattr_setsigdefault(SpawnAttributes attributes, in SignalSet signals);
    [DllImport(Libc)] public static extern int posix_spawnattr_setsigmask(SpawnAttributes attributes, in SignalSet signals);
    [DllImport(Libc)] public static extern int sigfillset(out SignalSet signals);
    [DllImport(Libc)] public static extern int sigemptyset(out SignalSet signals);

    [DllImport(Libc, SetLastError = true)] public static extern int waitid(int idType, int id, out ChildSignalInfo info, int options);

    public const long SYS_waitid = 247;

    /// <summary>
    /// The waitid system call itself, whose fifth argument glibc's wrapper leaves out: with WNOWAIT it
    /// reports a zombie's rusage (its own and its waited-for descendants') without reaping it.
    /// </summary>
    [DllImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    public static extern long waitid_with_usage(long number, int idType, int id, out ChildSignalInfo info, int options, out ResourceUsage usage);
    [DllImport(Libc, SetLastError = true)] public static extern int kill(int pid, int signal);
    [DllImport(Libc, SetLastError = true)] public static extern int pidfd_open(int pid, uint flags);
    [DllImport(Libc, SetLastError = true)] public static extern int poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    [DllImport(Libc, SetLastError = true)] public static extern int open(byte* path, int flags, int mode);
    [DllImport(Libc, SetLastError = true)] public static extern int close(int fd);
    [DllImport(Libc, SetLastError = true)] public static extern int openat(int dirFd, byte* path, int flags, int mode);
    [DllImport(Libc, SetLastError = true)] public static extern int mkdirat(int dirFd, byte* path, int mode);
    [DllImport(Libc, SetLastError = true)] public static extern int unlinkat(int dirFd, byte* path, int flags);
    [DllImport(Libc, SetLastError = true)] public static extern int renameat2(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath, uint flags);
    [DllImport(Libc, SetLastError = true)] public static extern int fstatat(int dirFd, byte* path, out FileStatus status, int flags);
    [DllImport(Libc, SetLastError = true)] public static extern int fstat(int fd, out FileStatus status);
    [DllImport(Libc, SetLastError = true)] public static extern int dup(int fd);
    [DllImport(Libc, SetLastError = true)] public static extern nint fdopendir(int fd);
    [DllImport(Libc, SetLastError = true)] public static extern byte* readdir(nint directory);
    [DllImport(Libc, SetLastError = true)] public static extern int closedir(nint directory);
    [DllImport(Libc, SetLastError = true)] public static extern byte* realpath(byte* path, byte* resolved);
    [DllImport(Libc)] public static extern void free(void* pointer);
    [DllImport(Libc, SetLastError = true)] public static extern int flock(SafeHandle fd, int operation);
    [DllImport(Libc, SetLastError = true)] public static extern nint read(SafeHandle fd, byte* buffer, nuint count);
    [DllImport(Libc, SetLastError = true)] public static extern nint write(SafeHandle fd, byte* buffer, nuint count);

    [DllImport(Libc, SetLastError = true)] public static extern int inotify_init1(int flags);
    [DllImport(Libc, SetLastError = true)] public static extern int inotify_add_watch(SafeDescriptor fd, byte* path, uint mask);

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/> for a native call.</summary>
    public static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text + "\0");

    public static IOException Failure(string what, int errno) =>
        new($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}

/// <summary>A file descriptor that is not a file .NET opened (a pidfd, an inotify instance); closed once, on dispose.</summary>
internal sealed class SafeDescriptor : SafeHandle
{
    public SafeDescriptor(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    public int Value => (int)handle;

    protected override bool ReleaseHandle() => NativeMethods.close((int)handle) == 0;
}

/// <summary>A C struct libc initialises and destroys in memory we own (posix_spawn's file actions and attributes).</summary>
internal abstract unsafe class NativeStruct : SafeHandle
{
    protected NativeStruct(int size, Func<nint, int> init, string what) : base(0, ownsHandle: true)
    {
        var memory = (nint)NativeMemory.AllocZeroed((nuint)size);
        var result = init(memory);
        if (result != 0)
        {
            NativeMemory.Free((void*)memory);
            throw NativeMethods.Failure(what, result);
        }
        SetHandle(memory);
    }

    public override bool IsInvalid => handle == 0;

    protected abstract void Destroy(nint memory);

    protected override bool ReleaseHandle()
    {
        Destroy(handle);
        NativeMemory.Free((void*)handle);
        return true;
    }
}

/// <summary>posix_spawn_file_actions_t (glibc's is 80 bytes; room to spare).</summary>
internal sealed class SpawnFileActions() : NativeStruct(512, NativeMethods.posix_spawn_file_actions_init, "posix_spawn_file_actions_init")
{
    protected override void Destroy(nint memory) => NativeMethods.posix_spawn_file_actions_destroy(memory);
}

/// <summary>posix_spawnattr_t (glibc's is 336 bytes).</summary>
internal sealed class SpawnAttributes() : NativeStruct(1024, NativeMethods.posix_spawnattr_init, "posix_spawnattr_init")
{
    protected override void Destroy(nint memory) => NativeMethods.posix_spawnattr_destroy(memory);
}
