using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// Red team (issue 13): ways a sandboxed job of a test-level run still reaches around the sandbox.
/// Each test is the attack as a job would do it and asserts what the gate promises; a test that fails
/// here is an attack that worked.
///
/// The resource-folder link: a run's jobs may write their scope's tmp bucket, which also holds the
/// resource folder (&lt;tmp bucket&gt;/batch/&lt;batch id&gt;) of every later batch of that scope. A job plants
/// a relative symbolic link there under the next batch ids. SandboxView.MayShow checks the resource
/// folder lexically (it is in the scope's tmp bucket), LocalJobRunner creates it through the link, and
/// bwrap's --bind resolves the link outside the sandbox (source: the host's path) and again inside the
/// new root (destination), so "../.." binds every bucket of the home, and "../../../configs" or
/// "../../../bin" (folders the sandbox's root holds as parents of what it shows) bind the host's config
/// store or bin folder, read-write, into the next batch's sandbox. CheckCopies refuses a linked
/// resource folder only when outputs are copied, after the job has run.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class SandboxEscapeTests : SandboxedRunTestBase
{
    /// <summary>
    /// Batch one (a test-level run's ordinary sandboxed job) tries to link the next batch ids' resource
    /// folders to <paramref name="target"/>: its scope's &lt;tmp bucket&gt;/batch is read-only in its sandbox, so
    /// it cannot. The links are then made from outside (as an unsandboxed job can — sandbox = "none", or no bwrap — or a
    /// job of a batch whose tmp root is elsewhere in the bucket), so the executor's own refusal is tested too.
    /// </summary>
    private async Task<long> PlantLinksAsync(string target)
    {
        var plant = $"tmp=\"$AR_HOME/buckets/cpg-{Dataset}-test-tmp/batch\"; for n in 1 2 3; do if ln -s {ShellQuoting.Quote(target)} \"$tmp/$((AR_BATCH_ID + n))\" 2>/dev/null; then echo planted; else echo refused; fi; done";
        var planter = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0, plant))));
        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(planter).State);
        Assert.Equal("refused\nrefused\nrefused\n", _home.Stdout(planter, 1));
        var tmp = Path.Combine(Bucket($"cpg-{Dataset}-test-tmp"), "batch");
        for (var n = 1; n <= 3; n++) File.CreateSymbolicLink(Path.Combine(tmp, (planter + n).ToString()), target);
        return planter;
    }

    /// <summary>
    /// "../../.." (the whole home) binds the host's home over the hidden one, but read-only (the home's
    /// --remount-ro), so the batch's own log lanes are read-only too and its jobs fail to start (127):
    /// no read of keys/ that way. The folders of the home that exist in the sandbox's own root as
    /// parents of what it shows (configs/, bin/) can be bound, read-write, over it.
    /// </summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_link_a_later_batchs_resource_folder_to_the_config_store_and_so_read_and_rewrite_other_runs_configs()
    {
        Directory.CreateDirectory(_home.Home.ConfigStoreDirectory);
        var otherConfig = Path.Combine(_home.Home.ConfigStoreDirectory, "other-run.toml");
        File.WriteAllText(otherConfig, "[workflow]\ndataset = \"other\"\naccess_level = \"full\"\n");
        var planter = await PlantLinksAsync("../../../configs");

        // The next batch, of another test-level run of the same dataset (another user's, say): an ordinary sandboxed job.
        var reader = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0,
            "set +e",
            "grep -q 'access_level = \"full\"' \"$AR_HOME/configs/other-run.toml\" 2>/dev/null && echo read-other-config",
            "echo 'output_prefix = \"pwned\"' >> \"$AR_HOME/configs/other-run.toml\" 2>/dev/null && echo wrote-other-config",
            "true"))));
        Assert.InRange(reader, planter + 1, planter + 3);

        _home.WaitForBatch(reader);
        // The executor replaced the link with the batch's own folder before its sandbox showed it.
        Assert.Null(new FileInfo(Path.Combine(Bucket($"cpg-{Dataset}-test-tmp"), "batch", reader.ToString())).LinkTarget);
        var output = _home.Stdout(reader, 1);
        var job = (await _home.Store.GetJobAsync(reader, 1))!;
        Assert.True(job.State == JobState.Succeeded, $"the job did not run, so this proves nothing: {job.Reason} {_home.Stderr(reader, 1)}");

        Assert.DoesNotContain("pwned", File.ReadAllText(otherConfig));
        Assert.DoesNotContain("read-other-config", output);
        Assert.DoesNotContain("wrote-other-config", output);
    }

    /// <summary>The same link to "../../../bin": the home's pwsh shim, which every unsandboxed driver runs, is rewritten from inside the sandbox.</summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_link_a_later_batchs_resource_folder_to_the_homes_bin_and_so_replace_the_pwsh_shim_drivers_run()
    {
        var shim = Path.Combine(_home.Home.BinDirectory, "pwsh");
        Directory.CreateDirectory(_home.Home.BinDirectory);
        if (!File.Exists(shim)) File.WriteAllText(shim, "#!/bin/sh\nexec true \"$@\"\n");
        var before = File.ReadAllText(shim);
        var planter = await PlantLinksAsync("../../../bin");

        var writer = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0,
            "set +e",
            "printf '#!/bin/sh\\necho ATTACKER-RUNS-UNSANDBOXED\\n' > \"$AR_HOME/bin/pwsh\" 2>/dev/null && echo replaced-shim",
            "true"))));
        Assert.InRange(writer, planter + 1, planter + 3);

        _home.WaitForBatch(writer);
        var job = (await _home.Store.GetJobAsync(writer, 1))!;
        Assert.True(job.State == JobState.Succeeded, $"the job did not run, so this proves nothing: {job.Reason} {_home.Stderr(writer, 1)}");

        Assert.Equal(before, File.ReadAllText(shim));
        Assert.DoesNotContain("replaced-shim", _home.Stdout(writer, 1));
    }

    [Fact]
    public async Task A_sandboxed_job_cannot_link_a_later_batchs_resource_folder_to_the_buckets_folder_and_so_write_another_datasets_main_bucket()
    {
        var otherMain = Bucket("cpg-other-main");
        var ownMain = Bucket($"cpg-{Dataset}-main");
        Directory.CreateDirectory(otherMain);
        Directory.CreateDirectory(ownMain);
        var planter = await PlantLinksAsync("../..");

        var writer = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0,
            "set +e",
            $"echo pwned > \"$AR_HOME/buckets/cpg-other-main/pwned\" 2>/dev/null && echo wrote-other-main",
            $"echo pwned > \"$AR_HOME/buckets/cpg-{Dataset}-main/pwned\" 2>/dev/null && echo wrote-own-main",
            "true"))));
        Assert.InRange(writer, planter + 1, planter + 3);

        _home.WaitForBatch(writer);
        var output = _home.Stdout(writer, 1);

        Assert.False(File.Exists(Path.Combine(otherMain, "pwned")), $"a test-level job wrote another dataset's main bucket: {output}");
        Assert.False(File.Exists(Path.Combine(ownMain, "pwned")), $"a test-level job wrote its dataset's main bucket: {output}");
        Assert.DoesNotContain("wrote-", output);
    }

    /// <summary>
    /// A batch's log folder is read-write in its sandbox, and the executor writes a job's script there
    /// (logs/&lt;batch&gt;/&lt;job&gt;.&lt;attempt&gt;.sh, File.WriteAllText, following links) when the script is over
    /// 100,000 bytes. Job 1 links job 2's script path to "../../registry.toml"; when job 2 starts, the
    /// executor (outside the sandbox, as root) writes job 2's command text over the runner's registry.
    /// The same link to H/bin/pwsh (which unsandboxed drivers run) or to an absolute host path such as
    /// /root/.ssh/authorized_keys writes attacker-chosen text there.
    /// </summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_make_the_executor_write_a_later_jobs_script_over_a_file_of_the_runner_home()
    {
        var registry = Path.Combine(_home.Root, "registry.toml");
        if (!File.Exists(registry)) File.WriteAllText(registry, "# registry\n");
        var before = File.ReadAllText(registry);
        var longCommand = "echo ATTACKER-CONTENT # " + new string('x', 100_001);

        var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(
            TestHome.Job(0, "ln -s ../../registry.toml \"$AR_HOME/logs/$AR_BATCH_ID/2.1.sh\" && echo linked"),
            TestHome.Job(1, longCommand) with { DependsOn = [0] })));

        _home.WaitForBatch(id);

        Assert.Equal("linked\n", _home.Stdout(id, 1));
        var after = File.ReadAllText(registry);
        Assert.DoesNotContain("ATTACKER-CONTENT", after);
        Assert.Equal(before, after);
    }

    /// <summary>The same with an absolute link: the executor writes the job's text to a file of the host outside the runner home (as root here).</summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_make_the_executor_write_a_later_jobs_script_to_a_host_file_outside_the_home()
    {
        var hostFile = Path.Combine("/tmp", "ar-host-file-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(hostFile, "host content\n");
        try
        {
            var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(
                TestHome.Job(0, $"ln -s {ShellQuoting.Quote(hostFile)} \"$AR_HOME/logs/$AR_BATCH_ID/2.1.sh\" && echo linked"),
                TestHome.Job(1, "echo ATTACKER-CONTENT # " + new string('x', 100_001)) with { DependsOn = [0] })));

            _home.WaitForBatch(id);

            Assert.Equal("linked\n", _home.Stdout(id, 1));
            Assert.Equal("host content\n", File.ReadAllText(hostFile));
        }
        finally { File.Delete(hostFile); }
    }

    /// <summary>
    /// A batch outside any run may read local files outside the runner home. The check is lexical
    /// (BatchScopeRule and SandboxView.MayShow use Path.GetFullPath), so an input that is a link outside
    /// the home pointing at keys/run-token.key is shown: bwrap's --ro-bind follows it.
    /// </summary>
    [Fact]
    public async Task A_batch_outside_any_run_cannot_read_the_run_token_key_through_an_input_that_links_into_the_home()
    {
        Directory.CreateDirectory(_home.Home.KeysDirectory);
        var key = _home.Home.RunTokenKeyPath;
        // Made as the runner makes it (a run's job gets a token); its content is what a job must never see.
        RunTokens.Issue(_home.Home, Guid.NewGuid().ToString());
        var keyHex = Convert.ToHexString(File.ReadAllBytes(key)).ToLowerInvariant();
        var link = Path.Combine(Path.GetTempPath(), "ar-input-link-" + Guid.NewGuid().ToString("N")[..8]);
        File.CreateSymbolicLink(link, key);
        try
        {
            var id = await _home.SubmitAndWakeAsync(_home.Batch(
                TestHome.Job(0, $"od -An -tx1 {ResourcePlaceholder.ForInput(0)} | tr -d ' \\n'; echo")) with
            {
                TmpRoot = Path.Combine(Bucket(SandboxView.LocalTmpBucket), "batch"),
                Inputs = [new InputSpec { Index = 0, Path = link }],
            });

            _home.WaitForBatch(id);

            Assert.DoesNotContain(keyHex, _home.Stdout(id, 1));
        }
        finally { File.Delete(link); }
    }

    /// <summary>
    /// The launcher runs inside the sandbox as the jobs' uid, so a job opens /proc/&lt;launcher&gt;/fd/1 (the
    /// answers pipe to the executor) and writes "E 1 0": the executor takes the launcher's word and
    /// records the job as succeeded with exit 0, while the shell goes on and really exits 9. (Writing
    /// /proc/&lt;launcher&gt;/fd/0 likewise injects requests.) A job that is "ended" but still running has
    /// its outputs copied while it can still change them.
    /// </summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_forge_the_launchers_answer_and_be_recorded_as_succeeded_while_it_fails()
    {
        var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0,
            "for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '^[^ ]*ar-launcher'; then launcher=${p#/proc/}; fi; done",
            "echo launcher=$launcher",
            "printf 'E 1 0\\n' > /proc/$launcher/fd/1 && echo forged",
            "sleep 1",
            "exit 9"))));

        _home.WaitForBatch(id);
        var job = (await _home.Store.GetJobAsync(id, 1))!;

        Assert.True(job.State == JobState.Failed && job.ExitCode == 9,
            $"the job exited 9 but is recorded {job.State} (exit {job.ExitCode}); its output: {_home.Stdout(id, 1)}");
    }
}
