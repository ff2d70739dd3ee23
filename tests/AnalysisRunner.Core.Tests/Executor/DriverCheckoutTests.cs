using System.Diagnostics;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Execution;

namespace AnalysisRunner.Core.Tests.Executor;

public sealed class DriverCheckoutTests : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task A_driver_job_runs_inside_a_clone_of_the_repository_at_its_commit()
    {
        var (bare, first, _) = MakeRepository();

        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, "pwd", "cat version.txt", "git status --porcelain | wc -l") with
        {
            Checkout = new CheckoutSpec(bare, first, "scripts"),
        });
        var batch = _home.WaitForBatch(id);

        Assert.Equal(BatchState.Succeeded, batch.State);
        var log = _home.Stdout(id, 1).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var lines = log.Where(line => !line.StartsWith("[runner ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Path.Combine(_home.Root, "work", id.ToString(), "1", "repo", "scripts"), lines[0]);
        Assert.Equal("one", lines[1]);
        Assert.Equal("0", lines[2].Trim());
        // The driver's own steps come first in its log, each with how long it took.
        var steps = log.TakeWhile(line => line.StartsWith("[runner ", StringComparison.Ordinal)).ToList();
        Assert.Contains(steps, line => line.Contains("credentials:"));
        Assert.Contains(steps, line => line.Contains($"clone {bare} into") && line.Contains(": done in ") && line.EndsWith(" s"));
        Assert.Contains(steps, line => line.Contains($"checkout {first} (detached): done in "));
        Assert.Contains(steps, line => line.EndsWith("cd repo/scripts"));
    }

    [Fact]
    public void A_cwd_outside_the_repository_is_refused()
    {
        var (bare, first, _) = MakeRepository();
        var work = Path.Combine(_home.Root, "w");

        var error = Assert.Throws<SourceException>(() => DriverCheckout.Checkout(new CheckoutSpec(bare, first, "../.."), work));

        Assert.Equal("InvalidCwd", error.ErrorId);
    }

    [Fact]
    public async Task An_unknown_commit_fails_the_job()
    {
        var (bare, _, _) = MakeRepository();

        var id = await _home.SubmitAndWakeAsync(TestHome.Job(0, "true") with { Checkout = new CheckoutSpec(bare, new string('a', 40), ".") });
        var job = _home.WaitForBatch(id) is { State: BatchState.Failed } ? (await _home.Store.GetJobAsync(id, 1))! : null;

        Assert.NotNull(job);
        Assert.StartsWith("StartFailed:", job.Reason);
        // The reason is in the job's log too, where someone reading the log looks for it.
        Assert.Contains(job.Reason!, _home.Stderr(id, 1));
    }

    /// <summary>A bare repository with two commits; version.txt says which, in scripts/.</summary>
    private (string Bare, string First, string Second) MakeRepository()
    {
        var source = Path.Combine(_home.Root, "source");
        var bare = Path.Combine(_home.Root, "origin.git");
        Directory.CreateDirectory(Path.Combine(source, "scripts"));
        Git(source, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(source, "scripts", "version.txt"), "one\n");
        Git(source, "add", ".");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "one");
        var first = Git(source, "rev-parse", "HEAD");
        File.WriteAllText(Path.Combine(source, "scripts", "version.txt"), "two\n");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "two");
        var second = Git(source, "rev-parse", "HEAD");
        Git(_home.Root, "clone", "-q", "--bare", source, bare);
        return (bare, first, second);
    }

    private static string Git(string cwd, params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output.Trim();
    }
}
