using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>What the settings make of a machine with or without bubblewrap, and the bwrap line a batch gets.</summary>
public sealed class SandboxModeTests
{
    private const string Bwrap = "/usr/bin/bwrap";
    private const string Launcher = "/opt/ar/ar-launcher";

    [Theory]
    [InlineData("auto", null, true, "Sandboxed")]
    [InlineData("bubblewrap", null, true, "Sandboxed")]
    [InlineData("none", null, true, "Unsandboxed")]
    [InlineData("auto", null, false, "Unsandboxed")]
    [InlineData("auto", false, false, "Refused")]
    [InlineData("bubblewrap", null, false, "Refused")]
    [InlineData("bubblewrap", true, false, "Unsandboxed")]
    public void Without_bubblewrap_jobs_run_unsandboxed_only_where_the_settings_allow_it(string mode, bool? allow, bool installed, string use)
    {
        var expected = Enum.Parse<SandboxUse>(use);
        var decision = SandboxMode.Decide(new RunnerSettings { ExecutorSandbox = mode, AllowUnsandboxed = allow }, installed ? Bwrap : null, Launcher);

        Assert.Equal(expected, decision.Use);
        if (expected == SandboxUse.Sandboxed || mode == "none") Assert.Null(decision.Reason);
        else Assert.StartsWith("SandboxNotAvailable: bubblewrap (bwrap) is not installed", decision.Reason);
    }

    [Fact]
    public void A_missing_launcher_is_named_as_the_reason()
    {
        var decision = SandboxMode.Decide(new RunnerSettings { ExecutorSandbox = "bubblewrap" }, Bwrap, null);

        Assert.Equal(SandboxUse.Refused, decision.Use);
        Assert.Contains("ar-launcher", decision.Reason);
    }

    [Fact]
    public void Settings_name_the_sandbox_and_refuse_what_they_do_not_know()
    {
        using var folder = new TempFolder();
        var home = new RunnerHome(folder.Path);
        Assert.Equal("auto", RunnerSettings.Load(home).ExecutorSandbox);

        File.WriteAllText(home.SettingsPath, "[executor]\nsandbox = \"bubblewrap\"\nallow_unsandboxed = true\nsandbox_network = false\n");
        var settings = RunnerSettings.Load(home);
        Assert.Equal(("bubblewrap", true, false), (settings.ExecutorSandbox, settings.AllowUnsandboxed, settings.SandboxNetwork));

        File.WriteAllText(home.SettingsPath, "[executor]\nallow_unsandboxed = \"yes\"\n");
        Assert.Equal("InvalidSettings", Assert.ThrowsAny<AnalysisRunnerException>(() => RunnerSettings.Load(home)).ErrorId);

        var wrong = Assert.ThrowsAny<AnalysisRunnerException>(() => SandboxMode.Check("firejail", home.SettingsPath));
        Assert.Equal("SandboxNotSupported", wrong.ErrorId);
        Assert.Contains("auto, bubblewrap, none", wrong.Message);
    }

    [Fact]
    public void The_bwrap_line_drops_every_capability_dies_with_the_executor_and_hides_a_home_under_tmp_before_showing_parts_of_it()
    {
        var view = new SandboxView
        {
            HomeRoot = "/tmp/ar-home",
            ReadOnly = ["/usr", "/tmp/ar-home/bin", "/tmp/ar-home/configs/run.toml"],
            ReadWrite = ["/tmp/ar-home/work/5", "/tmp/ar-home/logs/5"],
            Symlinks = [("/bin", "usr/bin")],
            Folders = ["/root"],
            Network = false,
        };

        var line = BubblewrapSandbox.Arguments(view, Launcher);
        var text = string.Join(' ', line);

        Assert.Equal(["--tmpfs", "/tmp"], line.Take(2));
        foreach (var must in new[] { "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop ALL", "--ro-bind /proc/sys /proc/sys", "--remount-ro /" })
            Assert.Contains(must, text);
        Assert.DoesNotContain("--share-net", text);
        Assert.True(text.IndexOf("--tmpfs /tmp/ar-home", StringComparison.Ordinal) < text.IndexOf("--ro-bind /tmp/ar-home/bin", StringComparison.Ordinal));
        Assert.True(text.IndexOf("--tmpfs /tmp/ar-home", StringComparison.Ordinal) < text.IndexOf("--bind /tmp/ar-home/work/5", StringComparison.Ordinal));
        Assert.Contains("--remount-ro /tmp/ar-home", text);
        Assert.Equal(["--", Launcher], line.TakeLast(2));
        Assert.Contains("--share-net", string.Join(' ', BubblewrapSandbox.Arguments(view with { Network = true }, Launcher)));
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ar-settings-" + Guid.NewGuid().ToString("N")[..8]);
        public TempFolder() => Directory.CreateDirectory(Path);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
