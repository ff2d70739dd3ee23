using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// A file opened with O_APPEND: every write lands at the end, whoever else appends to it (a job's
/// shell, its children, another writer), and one write(2) of a short line is never interleaved with another.
/// </summary>
internal static unsafe class AppendFile
{
    public static SafeFileHandle Open(string path)
    {
        fixed (byte* native = Utf8(path))
        {
            // O_NOFOLLOW: a job may replace a lane or its ledger by a link (its log folder is writable in its sandbox); the executor never appends through one.
            var fd = open(native, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0x1A4);
            if (fd < 0) throw Failure("open " + path, Marshal.GetLastPInvokeError());
            return new SafeFileHandle(fd, ownsHandle: true);
        }
    }

    /// <summary>Appends <paramref name="bytes"/> in one write (a short write is finished by more).</summary>
    public static void Write(SafeFileHandle file, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var written = write(file, start + done, (nuint)(bytes.Length - done));
                if (written < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    throw Failure("write", errno);
                }
                done += (int)written;
            }
        }
    }
}
