using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>
/// A folder held open by its descriptor, reached from a root one name at a time with O_NOFOLLOW, and
/// everything done inside it by name relative to that descriptor (openat, mkdirat, unlinkat,
/// renameat2). The executor runs outside the sandbox, as root, on folders a job may write: a path
/// checked and then used by its text can be swapped for a link between the two; a descriptor cannot.
/// So a link is never followed anywhere below the root: it is refused (<see cref="LinkRefusedException"/>).
/// </summary>
internal sealed unsafe class LinkFreeFolder : IDisposable
{
    private readonly SafeDescriptor _fd;

    private LinkFreeFolder(SafeDescriptor fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The folder's path as it was reached (for messages only; nothing is opened by it).</summary>
    public string Path { get; }

    /// <summary>What a name in a folder is, as lstat sees it (a link is a link, never what it points to).</summary>
    public enum EntryKind { Missing, File, Folder, Link, Other }

    /// <summary>
    /// Opens <paramref name="path"/>, which must be <paramref name="root"/> or under it, following no link below
    /// <paramref name="root"/> (the root itself is opened as the host names it). With <paramref name="create"/>,
    /// missing folders are made (mkdirat never follows a link at the name it makes).
    /// </summary>
    public static LinkFreeFolder Open(string path, string root, bool create)
    {
        var full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        var top = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(root));
        if (full != top && !full.StartsWith(top + "/", StringComparison.Ordinal) && top != "/")
            throw new IOException($"{full} is not under {top}.");
        if (create) Directory.CreateDirectory(top);
        int fd;
        fixed (byte* native = Utf8(top))
            fd = open(native, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT) throw new DirectoryNotFoundException($"{top} does not exist.");
            throw Failure("open " + top, errno);
        }
        var folder = new LinkFreeFolder(new SafeDescriptor(fd), top);
        var rest = full == top ? "" : full[(top == "/" ? 1 : top.Length + 1)..];
        foreach (var name in rest.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                var next = folder.OpenFolder(name, create);
                folder.Dispose();
                folder = next;
            }
            catch
            {
                folder.Dispose();
                throw;
            }
        }
        return folder;
    }

    /// <summary>The folder <paramref name="name"/> in this one, made first with <paramref name="create"/>; a link or a file there is refused.</summary>
    public LinkFreeFolder OpenFolder(string name, bool create)
    {
        CheckName(name);
        var path = Join(name);
        fixed (byte* native = Utf8(name))
        {
            if (create && mkdirat(_fd.Value, native, 0x1FF /* 0777 less the umask, as Directory.CreateDirectory */) < 0 && Marshal.GetLastPInvokeError() != EEXIST)
                throw Failure("mkdir " + path, Marshal.GetLastPInvokeError());
            var fd = openat(_fd.Value, native, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
            if (fd >= 0) return new LinkFreeFolder(new SafeDescriptor(fd), path);
            var errno = Marshal.GetLastPInvokeError();
            throw KindOf(name) switch
            {
                EntryKind.Link => new LinkRefusedException(path),
                EntryKind.File or EntryKind.Other => new NotAFolderException(path),
                EntryKind.Missing => new DirectoryNotFoundException($"{path} does not exist."),
                _ => Failure("open " + path, errno),
            };
        }
    }

    /// <summary>What <paramref name="name"/> is in this folder, not following a link.</summary>
    public EntryKind KindOf(string name)
    {
        CheckName(name);
        fixed (byte* native = Utf8(name))
        {
            if (fstatat(_fd.Value, native, out var status, AT_SYMLINK_NOFOLLOW) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == ENOENT) return EntryKind.Missing;
                throw Failure("stat " + Join(name), errno);
            }
            return (status.Mode & S_IFMT) switch
            {
                S_IFREG => EntryKind.File,
                S_IFDIR => EntryKind.Folder,
                S_IFLNK => EntryKind.Link,
                _ => EntryKind.Other,
            };
        }
    }

    /// <summary>
    /// Creates <paramref name="name"/> to write: O_CREAT|O_EXCL|O_NOFOLLOW, so never through a link and never
    /// into a file that was there (whatever was there must be removed first, see <see cref="Remove"/>).
    /// </summary>
    public FileStream CreateNew(string name, int bufferSize)
    {
        CheckName(name);
        int fd;
        fixed (byte* native = Utf8(name))
            fd = openat(_fd.Value, native, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0x1B6 /* 0666, less the umask */);
        if (fd < 0) throw Failure("create " + Join(name), Marshal.GetLastPInvokeError());
        return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize);
    }

    /// <summary>
    /// Opens the file <paramref name="name"/> to read, O_NOFOLLOW (a link is refused), then fstat on what was
    /// opened must say a regular file or a FIFO. A FIFO is the job's own pipe: what it writes is what is
    /// copied, and the open waits for its writer as before (DurabilityTests kills the executor mid-copy that
    /// way). The open is not O_NONBLOCK: a FIFO opened without waiting and reopened to wait loses a writer that
    /// came and went in between. A job cannot make a device node (no CAP_MKNOD in its sandbox); a device or
    /// socket found anyway is refused after the open.
    /// </summary>
    public FileStream OpenRead(string name, int bufferSize)
    {
        CheckName(name);
        int fd;
        fixed (byte* native = Utf8(name))
            fd = openat(_fd.Value, native, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ELOOP) throw new LinkRefusedException(Join(name));
            if (errno == ENOENT) throw new FileNotFoundException($"{Join(name)} does not exist.", Join(name));
            throw Failure("open " + Join(name), errno);
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var type = fstat(fd, out var status) < 0 ? 0 : status.Mode & S_IFMT;
        if (type is not (S_IFREG or S_IFIFO))
        {
            handle.Dispose();
            throw new IOException($"{Join(name)} is not a regular file; only files (and a job's own pipes) are copied.");
        }
        return new FileStream(handle, FileAccess.Read, bufferSize);
    }

    /// <summary>Removes the file or link <paramref name="name"/> (a link itself, never what it points to); nothing when it is missing.</summary>
    public void Remove(string name)
    {
        CheckName(name);
        fixed (byte* native = Utf8(name))
            if (unlinkat(_fd.Value, native, 0) < 0 && Marshal.GetLastPInvokeError() is var errno && errno != ENOENT)
                throw Failure("unlink " + Join(name), errno);
    }

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> within this folder; without <paramref name="replace"/> an existing <paramref name="to"/> stays (EEXIST).</summary>
    public void Rename(string from, string to, bool replace)
    {
        CheckName(from);
        CheckName(to);
        fixed (byte* oldName = Utf8(from))
        fixed (byte* newName = Utf8(to))
        {
            if (renameat2(_fd.Value, oldName, _fd.Value, newName, replace ? 0 : RENAME_NOREPLACE) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EEXIST) throw new AlreadyThereException(Join(to));
                throw Failure($"rename {Join(from)} to {to}", errno);
            }
        }
    }

    /// <summary>The names in this folder (not "." or ".."), read from the descriptor, not the path.</summary>
    public IReadOnlyList<string> Names()
    {
        var copy = dup(_fd.Value);
        if (copy < 0) throw Failure("dup " + Path, Marshal.GetLastPInvokeError());
        var directory = fdopendir(copy);
        if (directory == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            close(copy);
            throw Failure("fdopendir " + Path, errno);
        }
        try
        {
            var names = new List<string>();
            for (byte* entry; (entry = readdir(directory)) != null; )
            {
                // struct dirent64 (x86-64): d_ino 8, d_off 8, d_reclen 2, d_type 1, then d_name.
                var name = Marshal.PtrToStringUTF8((nint)(entry + 19))!;
                if (name is not ("." or "..")) names.Add(name);
            }
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        finally
        {
            closedir(directory);
        }
    }

    public void Dispose() => _fd.Dispose();

    private string Join(string name) => Path == "/" ? "/" + name : Path + "/" + name;

    private static void CheckName(string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new IOException($"'{name}' is not a single name in a folder.");
    }
}

/// <summary>A symbolic link where the executor would have had to follow one; it never does.</summary>
internal sealed class LinkRefusedException(string path)
    : IOException($"{path} is a symbolic link; the executor never reads or writes through one below the folder it works in.")
{
    public string LinkPath { get; } = path;
}

/// <summary>A file (or other non-folder) where a folder of the path should be.</summary>
internal sealed class NotAFolderException(string path) : IOException($"{path} is not a folder.")
{
    public string FolderPath { get; } = path;
}

/// <summary>A no-replace rename found its target already there.</summary>
internal sealed class AlreadyThereException(string path) : IOException($"{path} already exists.");
