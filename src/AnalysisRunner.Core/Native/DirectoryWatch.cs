using System.Runtime.InteropServices;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// inotify on a few folders: Wait returns when a name in one of them is created, moved in, deleted
/// or (with Modified) written, when one of the extra handles given becomes readable (a process exit),
/// or at the timeout. Set up before checking the condition waited for, so a change between the check
/// and the wait is not missed.
/// </summary>
internal sealed unsafe class DirectoryWatch : IDisposable
{
    private readonly SafeDescriptor _inotify;

    public DirectoryWatch(IEnumerable<string> folders, bool modified = false)
    {
        var fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) throw Failure("inotify_init1", Marshal.GetLastPInvokeError());
        _inotify = new SafeDescriptor(fd);
        var mask = IN_CREATE | IN_MOVED_TO | IN_DELETE | (modified ? IN_MODIFY : 0);
        foreach (var folder in folders.Distinct(StringComparer.Ordinal))
        {
            if (!Directory.Exists(folder)) continue;
            fixed (byte* path = Utf8(folder))
                inotify_add_watch(_inotify, path, mask);
        }
    }

    /// <summary>True when something changed (or an extra handle is ready); false at the timeout. Null waits forever.</summary>
    public bool Wait(TimeSpan? timeout, params SafeHandle?[] extra)
    {
        var handles = new List<SafeHandle> { _inotify };
        handles.AddRange(extra.OfType<SafeHandle>());
        var ready = Poll.WaitAny(handles, timeout);
        if (ready == 0) Drain();
        return ready >= 0;
    }

    private void Drain()
    {
        var buffer = stackalloc byte[4096];
        while (read(_inotify, buffer, 4096) > 0) { }
    }

    public void Dispose() => _inotify.Dispose();
}
