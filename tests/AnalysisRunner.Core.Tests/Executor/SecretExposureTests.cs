using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// The server's start-up check that none of its secrets is where a job's sandbox shows it: judged
/// against the sandbox's own list, by where each path leads. The folders shown are given here (a test
/// cannot write under /usr), except where the real list is the point.
/// </summary>
public sealed class SecretExposureTests : IDisposable
{
    private readonly TempFolder _folder = new("ar-secrets");

    public void Dispose() => _folder.Dispose();

    private string File(string relative, string text = "secret")
    {
        var path = _folder.Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_secret_under_a_folder_shown_is_refused_naming_the_file_the_folder_and_what_to_do()
    {
        var shown = _folder.Combine("shown");
        var settings = File("shown/etc/server.toml");
        var exposure = new SecretExposure([shown], null);

        var error = Assert.Throws<AnalysisRunnerException>(() => exposure.Check([new SecretFile(settings, "The server settings file")]));

        Assert.Equal(("SecretVisibleToJobs", ErrorKind.PermissionDenied, (object?)settings), (error.ErrorId, error.Kind, error.Target));
        Assert.StartsWith($"The server settings file '{settings}' is under '{shown}', which job sandboxes show.", error.Message);
        Assert.Contains("Move it to a folder no sandbox shows", error.Message);
    }

    [Fact]
    public void A_secret_outside_every_folder_shown_or_one_that_does_not_exist_passes()
    {
        var exposure = new SecretExposure([_folder.Combine("shown")], null);
        Directory.CreateDirectory(_folder.Combine("shown"));
        var elsewhere = File("private/server.toml");

        exposure.Check([new SecretFile(elsewhere, "settings"), new SecretFile(_folder.Combine("shown/missing.key"), "key")]);

        Assert.Null(exposure.ShownBy(elsewhere));
        Assert.Null(exposure.ShownBy(_folder.Combine("shown/missing.key")));
    }

    [Fact]
    public void Links_are_judged_by_where_they_lead_on_both_sides()
    {
        var real = File("real/etc/tls.key");
        Directory.CreateDirectory(_folder.Combine("private"));
        var linkToShown = _folder.Combine("private/tls.key");
        System.IO.File.CreateSymbolicLink(linkToShown, real);
        var outside = File("private/pgpass");
        var linkOut = _folder.Combine("real/etc/pgpass");
        System.IO.File.CreateSymbolicLink(linkOut, outside);
        // The folder shown is itself a link: bwrap binds where it leads.
        var shown = _folder.Combine("shown");
        Directory.CreateSymbolicLink(shown, _folder.Combine("real"));
        var exposure = new SecretExposure([shown], null);

        var error = Assert.Throws<AnalysisRunnerException>(() => exposure.Check([new SecretFile(linkToShown, "The TLS private key")]));

        Assert.Contains($"'{linkToShown}' (which leads to '{real}') is under '{shown}'", error.Message);
        Assert.Equal(shown, exposure.ShownBy(real));
        // A link in a folder shown to a file outside it: the job sees the link, not what it leads to.
        Assert.Null(exposure.ShownBy(linkOut));
    }

    [Fact]
    public void A_runner_home_inside_a_folder_shown_is_hidden_except_the_parts_of_it_a_sandbox_shows()
    {
        var home = new RunnerHome(_folder.Combine("opt/home"));
        var key = File("opt/home/keys/run-token.key");
        var inBin = File("opt/home/bin/server.toml");
        var inBucket = File("opt/home/buckets/fewgenomes-test/server.toml");
        var exposure = new SecretExposure([_folder.Combine("opt"), home.BinDirectory, home.BucketsDirectory], home.Root);

        Assert.Null(exposure.ShownBy(key));
        Assert.Equal(home.BinDirectory, exposure.ShownBy(inBin));
        Assert.Equal(home.BucketsDirectory, exposure.ShownBy(inBucket));
        // The home reached by a link: the empty tmpfs goes over the path the home is written as, so where it really is shows.
        Directory.CreateSymbolicLink(_folder.Combine("linked-home"), home.Root);
        var throughLink = new SecretExposure([_folder.Combine("opt")], _folder.Combine("linked-home"));
        Assert.Equal(_folder.Combine("opt"), throughLink.ShownBy(key));
    }

    [Fact]
    public void The_folders_judged_are_the_sandboxes_own_list()
    {
        var home = new RunnerHome(_folder.Combine("home"));
        Directory.CreateDirectory(home.BinDirectory);
        var module = _folder.Combine("module/AnalysisRunner");
        Directory.CreateDirectory(module);
        var exposure = SecretExposure.Of(home, module);

        Assert.Equal("/usr", exposure.ShownBy("/usr/bin/env"));
        Assert.Equal("/etc/passwd", exposure.ShownBy("/etc/passwd"));
        Assert.Null(exposure.ShownBy("/etc/shadow"));
        // The module's parent folder (PSModulePath), the home's bin, buckets, logs and work; not the home's keys or settings.
        Assert.Equal(_folder.Combine("module"), exposure.ShownBy(File("module/server.toml")));
        Assert.Equal(home.BinDirectory, exposure.ShownBy(File("home/bin/x")));
        Assert.Equal(home.LogsDirectory, exposure.ShownBy(File("home/logs/1/server.toml")));
        Assert.Null(exposure.ShownBy(File("home/keys/run-token.key")));
        Assert.Null(exposure.ShownBy(File("home/settings.toml")));
        Assert.Contains(SandboxView.EveryBatchSees(home, module).ReadOnly, path => path == "/usr");
        Assert.All(SandboxView.EveryBatchSees(home, module).ReadOnly, path => Assert.Contains(path, exposure.Shown));
    }
}
