using System.Diagnostics;

namespace AnalysisRunner.Core.Tests.TestSupport;

/// <summary>A temporary folder deleted (with everything in it) on Dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "ar-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (!Directory.Exists(Path)) return;
        // Run configs and git objects are read-only; make them writable so the tree can go. Links are
        // skipped, not followed: a test's link to /usr/bin must not reach (nor loop through /usr/bin/X11 -> .).
        var inside = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(Path, "*", inside))
            File.SetAttributes(file, FileAttributes.Normal);
        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>
/// A bare "origin" and a working clone of it, driven with the git CLI so the code under test
/// (LibGit2Sharp) reads repositories made by real git. Git's user config is kept out.
/// </summary>
public sealed class GitFixture : IDisposable
{
    private readonly TempFolder _root = new("ar-git");

    public GitFixture(bool cloneOrigin = true)
    {
        OriginPath = _root.Combine("origin.git");
        WorkPath = _root.Combine("work");
        Git(_root.Path, "init", "--bare", "--initial-branch=main", OriginPath);
        if (cloneOrigin)
        {
            Git(_root.Path, "init", "--initial-branch=main", WorkPath);
            Git(WorkPath, "remote", "add", "origin", OriginPath);
        }
    }

    public string Root => _root.Path;
    public string OriginPath { get; }
    public string WorkPath { get; }

    public string Combine(params string[] parts) => _root.Combine(parts);

    /// <summary>Writes a file in the working clone (optionally executable), commits it and returns the commit's sha.</summary>
    public string CommitFile(string relativePath, string content, bool executable = false, string? message = null)
    {
        WriteFile(relativePath, content, executable);
        Git(WorkPath, "add", "--", relativePath);
        Git(WorkPath, "commit", "-q", "-m", message ?? $"change {relativePath}");
        return Head();
    }

    public void WriteFile(string relativePath, string content, bool executable = false)
    {
        var path = System.IO.Path.Combine(WorkPath, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (executable)
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    public string Head() => Git(WorkPath, "rev-parse", "HEAD").Trim();

    public void Push(string branch = "main") => Git(WorkPath, "push", "-q", "origin", $"{branch}:{branch}");

    public static string Git(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
            ["GIT_AUTHOR_NAME"] = "Test",
            ["GIT_AUTHOR_EMAIL"] = "test@example.org",
            ["GIT_COMMITTER_NAME"] = "Test",
            ["GIT_COMMITTER_EMAIL"] = "test@example.org",
        })
            start.Environment[key] = value;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed ({process.ExitCode}): {stderrTask.Result}");
        return stdout;
    }

    public void Dispose() => _root.Dispose();
}
