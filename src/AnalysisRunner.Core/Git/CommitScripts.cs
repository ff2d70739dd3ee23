using System.Text;
using LibGit2Sharp;

namespace AnalysisRunner.Core.Git;

/// <summary>A script as one commit holds it: what the driver runs, read from the tree, never from a working tree.</summary>
/// <param name="Path">Repository-relative and normalised ('/'-separated, no '.' or '..').</param>
/// <param name="Cwd">The repository-relative folder the driver runs from ("." for the root).</param>
/// <param name="Invocation">The script's path relative to Cwd, as the driver names it ("./hello.sh", "../tools/x.py").</param>
/// <param name="IsExecutable">The blob's mode is 100755.</param>
/// <param name="Shebang">The blob's first line after "#!", trimmed; null without one.</param>
/// <param name="BlobSha">The blob that runs.</param>
public sealed record CommitScript(string Path, string Cwd, string Invocation, bool IsExecutable, string? Shebang, string BlobSha)
{
    public bool IsPowerShell => Path.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Finds the script a run names inside the commit it runs, so that what the audit log calls reviewed
/// is what runs: the path stays inside the repository after normalisation, no folder on the way and
/// not the script itself is a symlink (a link could point anywhere, and its target is not what a
/// reviewer read), the file exists in the commit, and whether it is executable and its "#!" line come
/// from the blob. The authority checks this on its mirror before anything is written, and the driver
/// again on its checkout. Every refusal is a SourceException naming the path.
/// </summary>
internal static class CommitScripts
{
    /// <summary>Linux reads at most this many bytes of a "#!" line (BINPRM_BUF_SIZE).</summary>
    private const int ShebangBytes = 256;

    public static CommitScript Resolve(Commit commit, string cwd, string script)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var folder = CheckedFolder(commit, cwd);
        if (string.IsNullOrWhiteSpace(script))
            throw new SourceException("ScriptNotFound", ErrorKind.ObjectNotFound, script, "No script was given; name a file committed in the repository.");
        if (script.StartsWith('/') || script.StartsWith('~'))
            throw new SourceException("ScriptPathAbsolute", ErrorKind.InvalidArgument, script,
                $"Script '{script}' is an absolute path; the runner only runs a file of the commit. Give its path relative to the folder you run from (-Cwd '{Display(folder)}').");

        var parts = new List<string>(folder);
        foreach (var segment in script.Split('/'))
        {
            if (segment is "" or ".") continue;
            if (segment == "..")
            {
                if (parts.Count == 0)
                    throw new SourceException("ScriptOutsideRepository", ErrorKind.InvalidArgument, script,
                        $"Script '{script}' climbs out of the repository from '{Display(folder)}'; the runner only runs a file of the commit.");
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(segment);
        }
        if (parts.Count == 0)
            throw NotAFile(script, ".", "the repository's root folder");

        var path = string.Join('/', parts);
        var tree = commit.Tree;
        for (var i = 0; i < parts.Count; i++)
        {
            var entry = tree[parts[i]];
            var sofar = string.Join('/', parts.Take(i + 1));
            if (entry is null)
                throw new SourceException("ScriptNotFound", ErrorKind.ObjectNotFound, script,
                    $"Script '{script}' ({path}) is not in commit {Short(commit)}: there is no '{sofar}'. Commit it (and push it) first; untracked and uncommitted files never run.");
            if (entry.Mode == Mode.SymbolicLink)
                throw new SourceException("ScriptIsSymlink", ErrorKind.InvalidArgument, script,
                    $"'{sofar}' in commit {Short(commit)} is a symbolic link (to '{LinkTarget(entry)}'); the runner does not follow links, because their target is not the file that was reviewed. Run the file itself.");
            if (i < parts.Count - 1)
            {
                if (entry.Target is not Tree next)
                    throw new SourceException("ScriptNotFound", ErrorKind.ObjectNotFound, script,
                        $"Script '{script}' is not in commit {Short(commit)}: '{sofar}' is a file, not a folder.");
                tree = next;
                continue;
            }
            if (entry.Target is not Blob blob || entry.Mode is not (Mode.ExecutableFile or Mode.NonExecutableFile or Mode.NonExecutableGroupWritableFile))
                throw NotAFile(script, path, entry.Mode == Mode.GitLink ? "a submodule" : "a folder");
            var executable = entry.Mode == Mode.ExecutableFile;
            var shebang = ReadShebang(blob);
            var result = new CommitScript(path, Display(folder), Invocation(folder, parts), executable, shebang, blob.Sha);
            if (!executable && shebang is null && !result.IsPowerShell)
                throw NotRunnable(script, path, commit);
            return result;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>The cwd's folders, each a real folder of the commit (not a link, not a file).</summary>
    private static List<string> CheckedFolder(Commit commit, string cwd)
    {
        var trimmed = (cwd ?? ".").Trim().TrimEnd('/');
        if (trimmed.StartsWith('/') || trimmed.Split('/').Contains(".."))
            throw new SourceException("InvalidCwd", ErrorKind.InvalidArgument, cwd,
                $"-Cwd '{cwd}' must be a folder inside the repository, relative to its root, without '..' (for example 'examples/bash').");
        var parts = trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        var tree = commit.Tree;
        for (var i = 0; i < parts.Count; i++)
        {
            var entry = tree[parts[i]];
            var sofar = string.Join('/', parts.Take(i + 1));
            if (entry is not null && entry.Mode == Mode.SymbolicLink)
                throw new SourceException("CwdIsSymlink", ErrorKind.InvalidArgument, cwd,
                    $"'{sofar}' in commit {Short(commit)} is a symbolic link (to '{LinkTarget(entry)}'); the folder a run starts in must be a real folder of the commit.");
            if (entry?.Target is not Tree next)
                throw new SourceException("CwdNotFound", ErrorKind.ObjectNotFound, cwd,
                    $"'{cwd}' is not a folder of commit {Short(commit)}; run from a folder that is committed.");
            tree = next;
        }
        return parts;
    }

    /// <summary>The script relative to the folder the driver runs in. Every folder between them was checked to be real, so '..' means what it says.</summary>
    private static string Invocation(List<string> folder, List<string> script)
    {
        var common = 0;
        while (common < folder.Count && common < script.Count - 1 && folder[common] == script[common]) common++;
        var up = Enumerable.Repeat("..", folder.Count - common);
        var relative = string.Join('/', up.Concat(script.Skip(common)));
        return relative.Contains('/') ? relative : "./" + relative;
    }

    private static string? ReadShebang(Blob blob)
    {
        using var content = blob.GetContentStream();
        var buffer = new byte[ShebangBytes];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = content.Read(buffer, read, buffer.Length - read)) > 0) read += n;
        if (read < 2 || buffer[0] != '#' || buffer[1] != '!') return null;
        var end = Array.IndexOf(buffer, (byte)'\n', 0, read);
        var line = Encoding.UTF8.GetString(buffer, 2, (end < 0 ? read : end) - 2).Trim();
        return line.Length == 0 ? null : line;
    }

    private static string LinkTarget(TreeEntry entry) =>
        entry.Target is Blob blob ? blob.GetContentText().Trim() : "?";

    private static string Display(IReadOnlyList<string> folder) => folder.Count == 0 ? "." : string.Join('/', folder);

    private static string Short(Commit commit) => commit.Sha[..12];

    private static SourceException NotAFile(string script, string path, string what) =>
        new("ScriptNotAFile", ErrorKind.InvalidArgument, script, $"Script '{script}' ({path}) is {what} in the commit, not a file to run.");

    private static SourceException NotRunnable(string script, string path, Commit commit)
    {
        var interpreter = System.IO.Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".py" => "python3",
            ".r" => "Rscript",
            ".pl" => "perl",
            _ => "bash",
        };
        return new SourceException("ScriptNotExecutable", ErrorKind.InvalidArgument, script,
            $"Script '{script}' ({path}) is not executable in commit {Short(commit)} and has no shebang line there, so the driver cannot tell how to run it. " +
            $"Add '#!/usr/bin/env {interpreter}' as its first line (or 'git update-index --chmod=+x {path}') and commit: a local chmod or edit does not change what runs.");
    }
}
