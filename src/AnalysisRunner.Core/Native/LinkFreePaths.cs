using System.Runtime.InteropServices;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// Paths as the kernel resolves them, for checks that must hold for where a path leads rather than how
/// it is written: a job can make symbolic links in every folder it may write, so a path the executor
/// (outside the sandbox, as root) creates, writes or hands to bwrap is checked here, not by its text.
/// </summary>
internal static unsafe class LinkFreePaths
{
    /// <summary>realpath(3): the path with every link, "." and ".." resolved; null when it (or a folder on the way) does not exist.</summary>
    public static string? Resolve(string path)
    {
        fixed (byte* native = Utf8(path))
        {
            var resolved = realpath(native, null);
            if (resolved == null) return null;
            try { return Marshal.PtrToStringUTF8((nint)resolved); }
            finally { free(resolved); }
        }
    }

    /// <summary>Where <paramref name="path"/> leads: its longest existing part resolved by realpath, the rest (not made yet) appended as written.</summary>
    public static string ResolveExisting(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var rest = "";
        for (var at = full; ; )
        {
            if (Resolve(at) is { } real) return rest.Length == 0 ? real : Path.Join(real, rest);
            var parent = Path.GetDirectoryName(at);
            if (parent is null) return full;
            rest = rest.Length == 0 ? Path.GetFileName(at) : Path.Join(Path.GetFileName(at), rest);
            at = parent;
        }
    }

    /// <summary>Whether <paramref name="path"/>, as written or where it leads, is <paramref name="folder"/> or under it (as written or resolved).</summary>
    public static bool LeadsInto(string path, string folder)
    {
        var real = ResolveExisting(path);
        var top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var realTop = ResolveExisting(top);
        static bool Under(string p, string f) => p == f || p.StartsWith(f + "/", StringComparison.Ordinal);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Under(full, top) || Under(real, top) || Under(full, realTop) || Under(real, realTop);
    }

    /// <summary>
    /// The path <paramref name="path"/> must resolve to if no part of it below <paramref name="root"/> is a link
    /// (<paramref name="root"/> itself may sit under a link of the host's, a home under a linked /home, say).
    /// </summary>
    public static string Expected(string path, string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (full != top && !full.StartsWith(top + "/", StringComparison.Ordinal)) return full;
        var realRoot = Resolve(top) ?? top;
        return full == top ? realRoot : Path.Join(realRoot, full[(top.Length + 1)..]);
    }

    /// <summary>Whether <paramref name="path"/> exists and no part of it below <paramref name="root"/> is a link.</summary>
    public static bool IsLinkFree(string path, string root) => Resolve(path) is { } real && real == Expected(path, root);

    /// <summary>
    /// Makes the folder <paramref name="path"/> (and the folders above it, up to <paramref name="root"/>) without following a
    /// link: a link where the last folder should be is removed and a folder made in its place (the executor
    /// allots that name, so nothing else may put anything there); a link above it, or a file in its place,
    /// is refused. The result is checked by realpath, so a link made meanwhile is refused too.
    /// </summary>
    public static void CreateFolder(string path, string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (full != top && !full.StartsWith(top + "/", StringComparison.Ordinal))
            throw new IOException($"{full} is not under {top}.");
        var at = top;
        var parts = full == top ? [] : full[(top.Length + 1)..].Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            at = at + "/" + parts[i];
            var info = new DirectoryInfo(at);
            if (info.LinkTarget is not null)
            {
                if (i < parts.Length - 1) throw new IOException($"{at} is a symbolic link; a folder the executor makes or shows is never reached through one.");
                File.Delete(at); // the link itself, never what it points to
            }
            else if (File.Exists(at)) throw new IOException($"{at} is a file, not a folder.");
            // mkdir(2) never follows a link at its last component (it fails with EEXIST instead).
            if (!Directory.Exists(at) || new DirectoryInfo(at).LinkTarget is not null)
                Directory.CreateDirectory(at);
        }
        if (!IsLinkFree(full, top))
            throw new IOException($"{full} leads elsewhere ({Resolve(full) ?? "nowhere"}) through a symbolic link.");
    }

    /// <summary>Opens <paramref name="path"/> to read, never through a link at its end (O_NOFOLLOW: a job may replace its lane by a link to a key); null when it does not exist.</summary>
    public static FileStream? OpenRead(string path)
    {
        int fd;
        fixed (byte* native = Utf8(path))
            fd = open(native, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT) return null;
            throw Failure("open " + path + (errno == ELOOP ? " (a symbolic link, which is never read through)" : ""), errno);
        }
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1);
    }

    /// <summary>
    /// Creates <paramref name="path"/> for writing, never through a link and never over another file: O_CREAT|O_EXCL|O_NOFOLLOW,
    /// after removing a regular file left there (a link there is refused, not followed or removed).
    /// </summary>
    public static FileStream CreateNew(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null) throw new IOException($"{path} is a symbolic link; the executor does not write through one.");
        if (info.Exists) info.Delete();
        // FileMode.CreateNew is open(O_CREAT|O_EXCL), which fails on any existing name, a link included.
        return new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead });
    }
}
