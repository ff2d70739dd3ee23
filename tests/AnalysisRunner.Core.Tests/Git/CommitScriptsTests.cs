using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Tests.TestSupport;
using LibGit2Sharp;

namespace AnalysisRunner.Core.Tests.Git;

/// <summary>
/// One repository with one commit for every case below: they read the commit and nothing else (one
/// writes to the working tree to show it is not read), and making it is most of what they cost.
/// </summary>
public sealed class CommitScriptsRepository : IDisposable
{
    public CommitScriptsRepository()
    {
        Git.CommitFile("scripts/run.sh", "#!/bin/bash\necho run\n", executable: true);
        Git.CommitFile("scripts/by-shebang.py", "#!/usr/bin/env python3\nprint(1)\n");
        Git.CommitFile("scripts/plain.sh", "echo plain\n");
        Git.CommitFile("scripts/tool.ps1", "'ps'\n");
        Git.CommitFile("tools/other.sh", "#!/bin/sh\necho other\n", executable: true);
        Link("scripts/out.sh", "/bin/echo");
        Link("scripts/in.sh", "run.sh");
        Link("linked", "/usr/bin");
        Link("scripts-alias", "scripts");
        GitFixture.Git(Git.WorkPath, "add", "-A");
        GitFixture.Git(Git.WorkPath, "commit", "-q", "-m", "links");
        Commit = Git.Head();
    }

    public GitFixture Git { get; } = new();
    public string Commit { get; }

    public void Dispose() => Git.Dispose();

    private void Link(string path, string target) =>
        File.CreateSymbolicLink(Path.Combine(Git.WorkPath, path), target);
}

/// <summary>What runs is the commit: each case is what a hostile (or careless) user would try.</summary>
public sealed class CommitScriptsTests(CommitScriptsRepository tree) : IClassFixture<CommitScriptsRepository>
{
    private readonly GitFixture _git = tree.Git;
    private readonly string _commit = tree.Commit;

    private CommitScript Resolve(string cwd, string script)
    {
        using var repository = new Repository(_git.WorkPath);
        return CommitScripts.Resolve(repository.Lookup<Commit>(_commit), cwd, script);
    }

    private SourceException Refused(string cwd, string script, string errorId)
    {
        var ex = Assert.Throws<SourceException>(() => Resolve(cwd, script));
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }

    [Theory]
    [InlineData("scripts", "../../../../bin/sh", "ScriptOutsideRepository")]
    [InlineData(".", "../work/scripts/run.sh", "ScriptOutsideRepository")]
    [InlineData("scripts", "/bin/sh", "ScriptPathAbsolute")]
    [InlineData("scripts", "~/run.sh", "ScriptPathAbsolute")]
    [InlineData("scripts", "out.sh", "ScriptIsSymlink")]
    [InlineData("scripts", "in.sh", "ScriptIsSymlink")]
    [InlineData(".", "linked/id", "ScriptIsSymlink")]
    [InlineData(".", "scripts-alias/run.sh", "ScriptIsSymlink")]
    [InlineData("scripts", "../linked/env", "ScriptIsSymlink")]
    [InlineData("scripts", "missing.sh", "ScriptNotFound")]
    [InlineData("scripts", "run.sh/x", "ScriptNotFound")]
    [InlineData("scripts", "..", "ScriptNotAFile")]
    [InlineData(".", "scripts", "ScriptNotAFile")]
    [InlineData("scripts", "plain.sh", "ScriptNotExecutable")]
    [InlineData("scripts-alias", "run.sh", "CwdIsSymlink")]
    [InlineData("linked", "env", "CwdIsSymlink")]
    [InlineData("nowhere", "run.sh", "CwdNotFound")]
    [InlineData("scripts/run.sh", "x", "CwdNotFound")]
    [InlineData("../etc", "passwd", "InvalidCwd")]
    [InlineData("/etc", "passwd", "InvalidCwd")]
    public void Refuses_what_is_not_a_runnable_file_of_the_commit(string cwd, string script, string errorId)
    {
        var ex = Refused(cwd, script, errorId);
        Assert.Equal(errorId.StartsWith("Cwd", StringComparison.Ordinal) || errorId == "InvalidCwd" ? cwd : script, ex.Target);
    }

    [Fact]
    public void Mode_and_shebang_come_from_the_blob_not_the_working_tree()
    {
        File.SetUnixFileMode(Path.Combine(_git.WorkPath, "scripts/plain.sh"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(_git.WorkPath, "scripts/plain.sh"), "#!/bin/bash\necho plain\n");
        File.WriteAllText(Path.Combine(_git.WorkPath, "scripts/by-shebang.py"), "#!/bin/false\n");
        File.WriteAllText(Path.Combine(_git.WorkPath, "scripts/untracked.sh"), "#!/bin/bash\n");

        Refused("scripts", "plain.sh", "ScriptNotExecutable");
        Refused("scripts", "untracked.sh", "ScriptNotFound");
        var python = Resolve("scripts", "by-shebang.py");
        Assert.False(python.IsExecutable);
        Assert.Equal("/usr/bin/env python3", python.Shebang);
    }

    [Theory]
    [InlineData("scripts", "run.sh", "scripts/run.sh", "./run.sh", true)]
    [InlineData("scripts", "./run.sh", "scripts/run.sh", "./run.sh", true)]
    [InlineData("scripts", "../tools/other.sh", "tools/other.sh", "../tools/other.sh", true)]
    [InlineData(".", "tools//other.sh", "tools/other.sh", "tools/other.sh", true)]
    [InlineData("scripts", "../scripts/../tools/other.sh", "tools/other.sh", "../tools/other.sh", true)]
    [InlineData("scripts/", "tool.ps1", "scripts/tool.ps1", "./tool.ps1", false)]
    public void Resolves_a_file_of_the_commit_and_names_it_relative_to_the_folder_run_from(
        string cwd, string script, string path, string invocation, bool executable)
    {
        var resolved = Resolve(cwd, script);
        Assert.Equal(path, resolved.Path);
        Assert.Equal(invocation, resolved.Invocation);
        Assert.Equal(executable, resolved.IsExecutable);
    }

    [Fact]
    public void The_driver_command_comes_from_the_blob()
    {
        Assert.Equal("./run.sh 'a b'", AnalysisRunner.Core.Runs.DriverCommand.ForScript(Resolve("scripts", "run.sh"), ["a b"]));
        Assert.Equal("/usr/bin/env python3 ./by-shebang.py", AnalysisRunner.Core.Runs.DriverCommand.ForScript(Resolve("scripts", "by-shebang.py"), []));
        Assert.Equal("pwsh -NoProfile -NonInteractive -File ./tool.ps1 '-X'", AnalysisRunner.Core.Runs.DriverCommand.ForScript(Resolve("scripts", "tool.ps1"), ["-X"]));
    }
}
