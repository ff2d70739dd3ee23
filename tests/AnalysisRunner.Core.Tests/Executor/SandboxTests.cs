using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// Jobs as an attacker would write them, under the per-batch bubblewrap sandbox (the embedded
/// default, "auto", on a machine with bwrap): each tries to read what the runner home keeps from it or
/// to write where its run's scope does not reach, and must find nothing there; the same batch's honest
/// jobs do their work. The control runs the same attack unsandboxed and shows it succeeds there, so
/// these tests fail if the sandbox is not in the way.
/// </summary>
public sealed class SandboxTests : IDisposable
{
    private const string Dataset = "fewgenomes";
    private readonly TestHome _home = new(sandbox: SandboxMode.Auto);
    private readonly Deployment _deployment;

    public SandboxTests()
    {
        if (BubblewrapSandbox.Find() is null || BubblewrapSandbox.FindLauncher() is null)
            throw new InvalidOperationException("These tests need bubblewrap (apt-get install bubblewrap) and the launcher built beside the tests (a C compiler at build time).");
        _deployment = Deployment.Open(_home.Home);
    }

    /// <summary>A test-level run in the audit log (what Submit-Analysis records): the scope the executor verifies and the sandbox shows.</summary>
    private BatchSpec InRun(BatchSpec spec)
    {
        var arGuid = Guid.NewGuid().ToString();
        var run = new RunRecord
        {
            ArGuid = arGuid, Timestamp = DateTimeOffset.UtcNow, User = Environment.UserName, Dataset = Dataset, AccessLevel = AccessLevel.Test,
            Script = "x", Description = "d", OutputPrefix = "o", OutputDir = "o", ConfigPath = RunConfig(),
        };
        _deployment.Database.InTransaction((c, t) => new SqliteAuditLog(_deployment.Database).Append(run, c, t));
        return spec with { ArGuid = arGuid, ConfigPath = run.ConfigPath, TmpRoot = $"gs://cpg-{Dataset}-test-tmp/batch" };
    }

    public void Dispose() => _home.Dispose();

    /// <summary>What the home keeps from jobs, written here so a job that could read it would print it.</summary>
    private Dictionary<string, string> PlantSecrets(long otherBatch)
    {
        var secrets = new Dictionary<string, string>
        {
            ["registry"] = Path.Combine(_home.Root, "registry.toml"),
            ["settings"] = _home.Home.SettingsPath,
            ["database"] = _home.Home.DatabasePath,
            ["run token key"] = Path.Combine(_home.Root, "keys", "run-token.key"),
            ["other run's config"] = Path.Combine(_home.Home.ConfigStoreDirectory, "other-run.toml"),
            ["other batch's log"] = LocalLayout.Lane(_home.Home, otherBatch, 0),
            ["through /proc/1/root"] = "/proc/1/root" + Path.Combine(_home.Root, "registry.toml"),
        };
        // The run-token key is the runner's own: made when the run's job gets its token, before it starts.
        if (!File.Exists(secrets["registry"])) File.WriteAllText(secrets["registry"], "# registry\n");
        Directory.CreateDirectory(_home.Home.ConfigStoreDirectory);
        File.WriteAllText(secrets["other run's config"], "[workflow]\ndataset = \"other\"\naccess_level = \"full\"\n");
        return secrets;
    }

    /// <summary>The job's run config, as the runner writes it: its scope is ds at test.</summary>
    private string RunConfig()
    {
        var path = Path.Combine(_home.Home.ConfigStoreDirectory, Guid.NewGuid().ToString("N") + ".toml");
        Directory.CreateDirectory(_home.Home.ConfigStoreDirectory);
        File.WriteAllText(path, $"[workflow]\ndataset = \"{Dataset}\"\naccess_level = \"test\"\n");
        return path;
    }

    private string Bucket(string name) => Path.Combine(_home.Home.BucketsDirectory, name);

    private static string AttackScript(IReadOnlyDictionary<string, string> secrets, IEnumerable<string> forbiddenFolders)
    {
        var lines = new List<string> { "set +e" };
        foreach (var (what, path) in secrets)
            lines.Add($"if cat {ShellQuoting.Quote(path)} >/dev/null 2>&1; then echo {ShellQuoting.Quote("read " + what)}; else echo {ShellQuoting.Quote("refused " + what)}; fi");
        foreach (var folder in forbiddenFolders)
            lines.Add($"if echo pwned > {ShellQuoting.Quote(Path.Combine(folder, "pwned"))} 2>/dev/null; then echo {ShellQuoting.Quote("wrote " + folder)}; else echo {ShellQuoting.Quote("refused " + folder)}; fi");
        lines.Add("echo \"token=${AR_TOKEN-unset} server=${AR_SERVER-unset}\"");
        return string.Join('\n', lines);
    }

    private async Task<long> RunOtherBatchAsync()
    {
        var other = await _home.SubmitAndWakeAsync(TestHome.Job(0, "echo other-batch-secret"));
        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(other).State);
        return other;
    }

    [Fact]
    public async Task A_sandboxed_job_finds_nothing_of_the_home_it_is_kept_from_and_cannot_write_outside_its_scope()
    {
        var other = await RunOtherBatchAsync();
        var secrets = PlantSecrets(other);
        var forbidden = new[] { Bucket($"cpg-{Dataset}-main"), Bucket("cpg-other-test"), _home.Home.ConfigStoreDirectory, _home.Root };
        foreach (var folder in forbidden) Directory.CreateDirectory(folder);
        Environment.SetEnvironmentVariable("AR_TOKEN", "user-token-not-for-jobs");
        Environment.SetEnvironmentVariable("AR_SERVER", "http://127.0.0.1:1");
        _home.Client.Stop(TimeSpan.FromSeconds(20)); // the next executor starts with the user's token in its environment
        long id;
        try
        {
            id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0, AttackScript(secrets, forbidden)))));
        }
        finally
        {
            Environment.SetEnvironmentVariable("AR_TOKEN", null);
            Environment.SetEnvironmentVariable("AR_SERVER", null);
        }

        var batch = _home.WaitForBatch(id);
        var output = _home.Stdout(id, 1);

        Assert.True(batch.State == BatchState.Succeeded, (await _home.Store.GetJobAsync(id, 1))!.Reason + _home.Stderr(id, 1));
        foreach (var what in secrets.Keys) Assert.Contains("refused " + what + "\n", output);
        Assert.True(File.Exists(secrets["run token key"]), "the run-token key was never made, so refusing it proves nothing");
        foreach (var folder in forbidden)
        {
            Assert.Contains("refused " + folder + "\n", output);
            Assert.False(File.Exists(Path.Combine(folder, "pwned")), $"{folder}/pwned was written");
        }
        Assert.DoesNotContain("read ", output);
        Assert.DoesNotContain("wrote ", output);
        Assert.Contains("token=unset server=unset\n", output);
    }

    [Fact]
    public async Task A_batch_outside_any_run_whose_config_claims_a_scope_sees_no_bucket_of_it()
    {
        var forged = Path.Combine(_home.Root, "forged.toml");
        File.WriteAllText(forged, $"[workflow]\ndataset = \"{Dataset}\"\naccess_level = \"standard\"\n");
        var main = Bucket($"cpg-{Dataset}-main");
        Directory.CreateDirectory(main);
        var id = await _home.SubmitAndWakeAsync(_home.Batch(TestHome.Job(0, AttackScript(new Dictionary<string, string>(), [main]))) with { ConfigPath = forged });

        _home.WaitForBatch(id);

        Assert.Contains("refused " + main + "\n", _home.Stdout(id, 1));
        Assert.False(File.Exists(Path.Combine(main, "pwned")));
    }

    [Fact]
    public async Task The_same_attack_unsandboxed_reads_the_home_which_is_what_the_sandbox_prevents()
    {
        using var unsandboxed = new TestHome(sandbox: SandboxMode.None);
        var other = await unsandboxed.SubmitAndWakeAsync(TestHome.Job(0, "echo other-batch-secret"));
        unsandboxed.WaitForBatch(other);
        var registry = Path.Combine(unsandboxed.Root, "registry.toml");
        if (!File.Exists(registry)) File.WriteAllText(registry, "# registry\n");
        var main = Path.Combine(unsandboxed.Home.BucketsDirectory, $"cpg-{Dataset}-main");
        Directory.CreateDirectory(main);
        var secrets = new Dictionary<string, string> { ["registry"] = registry, ["other batch's log"] = LocalLayout.Lane(unsandboxed.Home, other, 0) };

        var id = await unsandboxed.SubmitAndWakeAsync(TestHome.Job(0, AttackScript(secrets, [main])));
        unsandboxed.WaitForBatch(id);
        var output = unsandboxed.Stdout(id, 1);

        Assert.Contains("read registry\n", output);
        Assert.Contains("read other batch's log\n", output);
        Assert.Contains("wrote " + main + "\n", output);
    }

    [Fact]
    public async Task Sandboxed_jobs_do_their_legitimate_work_in_their_scope_their_folders_and_their_resources()
    {
        var testBucket = Bucket($"cpg-{Dataset}-test");
        Directory.CreateDirectory(testBucket);
        File.WriteAllText(Path.Combine(testBucket, "input.txt"), "an input in its bucket\n");
        // A file outside the home is not shown (a run's batch reads only its buckets).
        var undeclared = Path.Combine(Path.GetTempPath(), "ar-undeclared-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(undeclared, "not an input\n");
        try
        {
            var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(
                TestHome.Job(0,
                    $"echo legit > {ShellQuoting.Quote(Path.Combine(testBucket, "legit.txt"))}",
                    "grep -q 'dataset = \"fewgenomes\"' \"$CPG_CONFIG_PATH\" && echo config-read",
                    "if { echo x >> \"$CPG_CONFIG_PATH\"; } 2>/dev/null; then echo config-written; else echo config-read-only; fi",
                    "echo scratch > ./scratch && cat ./scratch",
                    $"cat {ResourcePlaceholder.ForInput(0)}",
                    $"if {{ cat {ShellQuoting.Quote(undeclared)}; }} 2>/dev/null; then echo undeclared-read; fi",
                    $"echo resource > {ResourcePlaceholder.ForJob(0, "out")}",
                    "echo to-stderr >&2",
                    "echo private > /tmp/ar-sandbox-private && cat /tmp/ar-sandbox-private"),
                TestHome.Job(1, $"cat {ResourcePlaceholder.ForJob(0, "out")}", "exit 7")) with
                {
                    Inputs = [new InputSpec { Index = 0, Path = $"gs://cpg-{Dataset}-test/input.txt" }],
                }));

            var batch = _home.WaitForBatch(id);

            Assert.True((await _home.Store.GetJobAsync(id, 1))!.State == JobState.Succeeded, (await _home.Store.GetJobAsync(id, 1))!.Reason + _home.Stderr(id, 1));
            Assert.Equal("to-stderr\n", _home.Stderr(id, 1));
            Assert.Equal("config-read\nconfig-read-only\nscratch\nan input in its bucket\nprivate\n", _home.Stdout(id, 1).Replace("legit\n", ""));
            Assert.Equal("legit\n", File.ReadAllText(Path.Combine(testBucket, "legit.txt")));
            Assert.Equal(JobState.Succeeded, (await _home.Store.GetJobAsync(id, 1))!.State);
            Assert.False(File.Exists("/tmp/ar-sandbox-private"), "the sandbox's /tmp is the host's");
            Assert.Equal("resource\n", _home.Stdout(id, 2));
            Assert.Equal(7, (await _home.Store.GetJobAsync(id, 2))!.ExitCode);
            Assert.Equal(BatchState.Failed, batch.State);
        }
        finally { File.Delete(undeclared); }
    }

    [Fact]
    public async Task A_batch_outside_any_run_reads_its_inputs_outside_the_home_and_writes_its_resources_in_local_tmp()
    {
        var input = Path.Combine(Path.GetTempPath(), "ar-input-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(input, "an input outside the home\n");
        try
        {
            var id = await _home.SubmitAndWakeAsync(_home.Batch(
                TestHome.Job(0, $"cat {ResourcePlaceholder.ForInput(0)}", $"echo resource > {ResourcePlaceholder.ForJob(0, "out")}"),
                TestHome.Job(1, $"cat {ResourcePlaceholder.ForJob(0, "out")}")) with
            {
                TmpRoot = Path.Combine(Bucket(SandboxView.LocalTmpBucket), "batch"),
                Inputs = [new InputSpec { Index = 0, Path = input }],
            });

            var batch = _home.WaitForBatch(id);

            Assert.True(batch.State == BatchState.Succeeded, (await _home.Store.GetJobAsync(id, 1))!.Reason + _home.Stderr(id, 1));
            Assert.Equal("an input outside the home\n", _home.Stdout(id, 1));
            Assert.Equal("resource\n", _home.Stdout(id, 2));
        }
        finally { File.Delete(input); }
    }

    [Fact]
    public async Task A_sandboxed_job_that_is_cancelled_or_times_out_is_stopped_inside_the_sandbox_with_what_it_started()
    {
        var id = await _home.SubmitAndWakeAsync(
            TestHome.Job(0, "sleep 600 & sleep 600") with { Timeout = TimeSpan.FromSeconds(1) });

        var batch = _home.WaitForBatch(id);
        var job = (await _home.Store.GetJobAsync(id, 1))!;

        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("Timeout", job.Reason);
        Assert.Empty(OrphanJobs.Find(_home.Home, new HashSet<long> { id }));
        Assert.Equal(BatchState.Failed, batch.State);
    }

    [Fact]
    public async Task Killing_the_executor_takes_its_sandboxes_down_and_the_next_one_keeps_finished_jobs_and_reruns_interrupted_ones()
    {
        var marks = Bucket($"cpg-{Dataset}-test");
        Directory.CreateDirectory(marks);
        using var gate = new JobGate(Path.Combine(marks, "gate"));
        var ran = Path.Combine(marks, "ran.txt");
        var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(
            TestHome.Job(0, $"echo one >> {ShellQuoting.Quote(ran)}"),
            TestHome.Job(1, "echo started", gate.WaitCommand, $"echo two >> {ShellQuoting.Quote(ran)}"))));
        await _home.WaitForJobAsync(id, 1, JobState.Succeeded);
        Assert.True(_home.WaitUntil(() => _home.Stdout(id, 2) == "started\n", 30, id), _home.ExecutorLog());
        var inside = OrphanJobs.Find(_home.Home, new HashSet<long> { id }).Where(p => p.JobId == 2).ToList();
        Assert.NotEmpty(inside);
        var handles = inside.Select(p => ProcessHandle.TryOpen(p.Pid)).OfType<ProcessHandle>().ToList();

        _home.KillExecutor();

        // --die-with-parent: the sandbox and the job in it go with the executor, though the gate is still shut.
        foreach (var handle in handles)
            using (handle)
                Assert.True(handle.WaitForExit(TimeSpan.FromSeconds(30)), "a sandboxed job outlived its executor");
        gate.Open();
        _home.Client.Wake();
        var batch = _home.WaitForBatch(id, seconds: 90);

        Assert.Equal(BatchState.Succeeded, batch.State);
        Assert.Equal(["one", "two"], File.ReadAllLines(ran));
        Assert.Equal(1, (await _home.Store.GetJobAsync(id, 1))!.Attempt);
        Assert.Equal(2, (await _home.Store.GetJobAsync(id, 2))!.Attempt);
        Assert.Equal("started\n", _home.Stdout(id, 2, attempt: 2));
    }
}
