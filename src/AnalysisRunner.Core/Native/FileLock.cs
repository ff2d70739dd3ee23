using System.Runtime.InteropServices;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>An exclusive flock on a file, held until disposed; the kernel drops it when its holder dies, however it dies.</summary>
internal sealed unsafe class FileLock : IDisposable
{
    private readonly SafeDescriptor _file;

    private FileLock(SafeDescriptor file) => _file = file;

    /// <summary>The lock, or null when another process holds it.</summary>
    public static FileLock? TryTake(string path)
    {
        // Opened with open(2), not File.Open: .NET takes a shared flock of its own on every file it
        // opens, which would collide with the lock this is.
        int fd;
        fixed (byte* native = Utf8(path))
            fd = open(native, O_RDWR | O_CREAT | O_CLOEXEC, 0x1A4);
        if (fd < 0) throw Failure("open " + path, Marshal.GetLastPInvokeError());
        var file = new SafeDescriptor(fd);
        if (flock(file, LOCK_EX | LOCK_NB) == 0) return new FileLock(file);
        var errno = Marshal.GetLastPInvokeError();
        file.Dispose();
        if (errno is EAGAIN) return null;
        throw Failure("flock " + path, errno);
    }

    public void Dispose() => _file.Dispose();
}
