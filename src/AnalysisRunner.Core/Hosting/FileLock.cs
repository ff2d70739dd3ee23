using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// An exclusive advisory lock (flock) on a file that waits in the kernel for the holder to let go,
/// instead of retrying on a timer: the waiter wakes the moment the lock is free. The kernel releases
/// it when the holder's process dies, so a crashed runner never leaves a mirror locked.
/// </summary>
internal static partial class FileLock
{
    private const int LOCK_EX = 2;
    private const int EINTR = 4;
    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private const int O_CLOEXEC = 0x80000;

    /// <summary>Holds the lock until disposed; after <paramref name="timeout"/> throws what <paramref name="timedOut"/> makes.</summary>
    public static IDisposable Acquire(string path, TimeSpan timeout, Func<Exception> timedOut)
    {
        // Opened with open(2), not File.OpenHandle: .NET takes its own non-blocking flock on open,
        // which would fail while another process holds the lock instead of waiting for it.
        int fd;
        while ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x180 /* 0600 */)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR) throw new IOException($"Could not open the lock file '{path}' (errno {errno}).");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var locking = Task.Factory.StartNew(() => LockBlocking(handle), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool acquired;
        try
        {
            acquired = locking.Wait(timeout);
        }
        catch (AggregateException e)
        {
            handle.Dispose();
            throw e.InnerException!;
        }
        if (acquired) return new Held(handle);
        // The waiting thread still gets the lock eventually; it is let go of at once.
        locking.ContinueWith(_ => handle.Dispose(), TaskScheduler.Default);
        throw timedOut();
    }

    private static void LockBlocking(SafeFileHandle handle)
    {
        while (flock(handle, LOCK_EX) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR) throw new IOException($"flock failed with errno {errno}.");
        }
    }

    private sealed class Held(SafeFileHandle handle) : IDisposable
    {
        public void Dispose() => handle.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(SafeFileHandle fd, int operation);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);
}
