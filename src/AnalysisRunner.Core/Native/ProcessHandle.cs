using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// A pidfd: a handle on one process that cannot be confused with a later process given the same id.
/// It becomes readable when the process exits, whether or not it is our child, so waiting for any
/// process (an adopted job, an executor) is one poll, not a loop over /proc.
/// </summary>
internal sealed class ProcessHandle : IDisposable
{
    private ProcessHandle(int pid, SafeDescriptor descriptor)
    {
        ProcessId = pid;
        Descriptor = descriptor;
    }

    public int ProcessId { get; }
    public SafeDescriptor Descriptor { get; }

    /// <summary>A handle on <paramref name="pid"/>, or null when no such process exists (any more).</summary>
    public static ProcessHandle? TryOpen(int pid)
    {
        if (pid <= 0) return null;
        var fd = pidfd_open(pid, 0);
        return fd < 0 ? null : new ProcessHandle(pid, new SafeDescriptor(fd));
    }

    public bool HasExited => WaitForExit(TimeSpan.Zero);

    /// <summary>Blocks until the process exits (true) or the timeout passes (false); null waits forever.</summary>
    public bool WaitForExit(TimeSpan? timeout) => Poll.WaitAny([Descriptor], timeout) == 0;

    public void Dispose() => Descriptor.Dispose();
}

/// <summary>poll(2) over descriptors that signal by becoming readable (pidfds, inotify instances, sockets).</summary>
internal static unsafe class Poll
{
    /// <summary>The index of the first readable descriptor, or -1 when the timeout passed first; null waits forever.</summary>
    public static int WaitAny(IReadOnlyList<System.Runtime.InteropServices.SafeHandle> descriptors, TimeSpan? timeout)
    {
        var entries = stackalloc PollDescriptor[descriptors.Count];
        var added = new bool[descriptors.Count];
        try
        {
            for (var i = 0; i < descriptors.Count; i++)
            {
                descriptors[i].DangerousAddRef(ref added[i]);
                entries[i] = new PollDescriptor { Descriptor = (int)descriptors[i].DangerousGetHandle(), Events = POLLIN };
            }
            var deadline = timeout is { } t ? Environment.TickCount64 + (long)Math.Ceiling(t.TotalMilliseconds) : long.MaxValue;
            while (true)
            {
                var wait = timeout is null ? -1 : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
                var ready = poll(entries, (nuint)descriptors.Count, wait);
                if (ready > 0)
                {
                    for (var i = 0; i < descriptors.Count; i++)
                        if (entries[i].ReturnedEvents != 0) return i;
                }
                else if (ready == 0) return -1;
                else if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != EINTR)
                    throw Failure("poll", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            for (var i = 0; i < descriptors.Count; i++)
                if (added[i]) descriptors[i].DangerousRelease();
        }
    }
}
