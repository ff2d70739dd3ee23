using System.Runtime.InteropServices;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// An exclusive flock on a file, held until disposed; the kernel drops it when its holder dies, however
/// it dies. <see cref="TryTake"/> asks once; <see cref="Acquire"/> waits in the kernel for the holder to
/// let go (the waiter wakes the moment the lock is free, no retrying on a timer).
/// </summary>
internal sealed unsafe class FileLock : IDisposable
{
    private readonly SafeDescriptor _file;

    private FileLock(SafeDescriptor file) => _file = file;

    /// <summary>The lock, or null when another process holds it.</summary>
    public static FileLock? TryTake(string path)
    {
        var file = Open(path);
        if (flock(file, LOCK_EX | LOCK_NB) == 0) return new FileLock(file);
        var errno = Marshal.GetLastPInvokeError();
        file.Dispose();
        if (errno is EAGAIN) return null;
        throw Failure("flock " + path, errno);
    }

    /// <summary>Holds the lock until disposed; after <paramref name="timeout"/> throws what <paramref name="timedOut"/> makes.</summary>
    public static FileLock Acquire(string path, TimeSpan timeout, Func<Exception> timedOut)
    {
        var file = Open(path);
        var locking = Task.Factory.StartNew(() => LockBlocking(file, path), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool acquired;
        try
        {
            acquired = locking.Wait(timeout);
        }
        catch (AggregateException e)
        {
            file.Dispose();
            throw e.InnerException!;
        }
        if (acquired) return new FileLock(file);
        // The waiting thread still gets the lock eventually; it is let go of at once.
        locking.ContinueWith(_ => file.Dispose(), TaskScheduler.Default);
        throw timedOut();
    }

    private static SafeDescriptor Open(string path)
    {
        // Opened with open(2), not File.Open: .NET takes a shared flock of its own on every file it
        // opens, which would collide with the lock this is.
        int fd;
        do
        {
            fixed (byte* native = Utf8(path))
                fd = open(native, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        if (fd < 0) throw Failure("open " + path, Marshal.GetLastPInvokeError());
        return new SafeDescriptor(fd);
    }

    private static void LockBlocking(SafeDescriptor file, string path)
    {
        while (flock(file, LOCK_EX) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR) throw Failure("flock " + path, errno);
        }
    }

    public void Dispose() => _file.Dispose();
}
