using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// Red team 2 (issue 13): a sandboxed job of a test-level run gets the executor to read or write a
/// file for it, outside the sandbox, when it copies the job's Write-BatchOutput resources
/// (OutputCopier, after the job ends). The job may write its scope's test bucket (shown read-write)
/// and its batch's resource folder, which is where the copy reads from and writes to; the executor
/// runs as the home's owner (root here) and sees the host's files, so a link it follows there is an
/// escape. Each test is the attack as a job writes it and asserts that it fails.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class OutputCopyEscapeTests : SandboxedRunTestBase
{
    /// <summary>The host files a test-level job must never write: the registry (membership: whoever writes it grants itself full) and another dataset's main bucket.</summary>
    public static TheoryData<string> WriteTargets => new() { "registry.toml", "buckets/cpg-other-main/results/object.txt" };

    /// <summary>
    /// The executor copies an output into its destination's folder under a temporary name it fixes per
    /// attempt and output (".ar-tmp-output-&lt;batch&gt;-&lt;job&gt;-&lt;attempt&gt;-&lt;output&gt;-&lt;file&gt;", LocalFolderStore.WriteAsync
    /// with WriteOptions.TemporaryName), opened with FileMode.Create, which follows a link. The job knows
    /// every part of that name (AR_BATCH_ID, AR_JOB_ID, AR_ATTEMPT) and may write the destination's folder
    /// (its test bucket), so it plants a link there under that name to a host file. CheckCopies looks for
    /// links on the destination's path only, not at the temporary name beside it.
    /// </summary>
    [Theory]
    [MemberData(nameof(WriteTargets))]
    public async Task A_sandboxed_job_cannot_make_the_executor_write_its_output_through_a_link_at_the_copys_temporary_name(string target)
    {
        var victim = Path.Combine(_home.Root, target);
        Directory.CreateDirectory(Path.GetDirectoryName(victim)!);
        File.WriteAllText(victim, "# the runner's own file\n");
        var folder = Path.Combine(Bucket($"cpg-{Dataset}-test"), "exfil");
        var temporary = $"{LocalFolderStore.TempFilePrefix}output-$AR_BATCH_ID-$AR_JOB_ID-$AR_ATTEMPT-0-0";
        var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(TestHome.Job(0,
            $"mkdir -p {ShellQuoting.Quote(folder)}",
            $"ln -s {ShellQuoting.Quote(victim)} {ShellQuoting.Quote(folder)}/\"{temporary}\" && echo planted",
            $"printf '[datasets.{Dataset}.members]\\nfull = [\"attacker@example.org\"]\\n' > {ResourcePlaceholder.ForJob(0, "out")}") with
            {
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "out"), $"gs://cpg-{Dataset}-test/exfil/result.txt")],
            })));

        _home.WaitForBatch(id);

        Assert.True(_home.Stdout(id, 1) == "planted\n", $"the job could not plant its link, so this proves nothing: {_home.Stderr(id, 1)}");
        Assert.Equal("# the runner's own file\n", File.ReadAllText(victim));
    }

    /// <summary>
    /// CheckCopies looks for links in a copied folder once, then OutputCopier.Copy enumerates and opens its
    /// files again (new FileStream follows a link), one by one, each written and fsynced. Another job of
    /// the same batch runs meanwhile in the same sandbox, with the same resource folder read-write: it
    /// waits for the first file to arrive in the destination (its own test bucket, which it sees) and then
    /// replaces every file not yet copied by a link to the run-token key, which the executor then copies
    /// into the test bucket for it to read.
    /// </summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_swap_a_copied_folders_files_for_links_to_the_run_token_key_while_the_executor_copies_them()
    {
        var key = _home.Home.RunTokenKeyPath;
        var destination = Path.Combine(Bucket($"cpg-{Dataset}-test"), "swap");
        var outFolder = ResourcePlaceholder.ForJob(0, "out");
        const int Files = 200;
        // The two jobs meet in the batch's shared work folder (both start there): the swapper says it is
        // watching, the producer says where its folder is, so the copy cannot be over before the swapper looks.
        var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(
            TestHome.Job(0,
                "until [ -e ./ready ]; do sleep 0.05; done",
                $"mkdir -p {outFolder} && for n in $(seq 1 {Files}); do echo honest > {outFolder}/f$n; done",
                $"echo {outFolder} > ./outpath.tmp && mv ./outpath.tmp ./outpath") with
            {
                Outputs = [new OutputCopy(outFolder, $"gs://cpg-{Dataset}-test/swap")],
            },
            TestHome.Job(1,
                $"mkdir -p {ShellQuoting.Quote(destination)}; touch ./ready",
                "until [ -e ./outpath ]; do sleep 0.05; done; out=$(cat ./outpath)",
                "for i in $(seq 1 2400); do if ls " + ShellQuoting.Quote(destination) + " | grep -q '^f'; then break; fi; sleep 0.01; done",
                $"for f in \"$out\"/f*; do ln -sfn {ShellQuoting.Quote(key)} \"$f.link\" && mv -fT \"$f.link\" \"$f\"; done",
                "echo swapped"))));

        _home.WaitForBatch(id, seconds: 180);

        Assert.True(File.Exists(key), "no run-token key was issued to the run's jobs, so this proves nothing");
        var keyBytes = File.ReadAllBytes(key);
        Assert.True(_home.Stdout(id, 2) == "swapped\n", $"the swapper did not run to its end, so this proves nothing: {_home.Stderr(id, 2)}");
        var copied = Directory.Exists(destination) ? Directory.GetFiles(destination) : [];
        var leaked = copied.Where(file => new FileInfo(file).LinkTarget is null && File.ReadAllBytes(file).AsSpan().SequenceEqual(keyBytes)).ToList();
        Assert.True(leaked.Count == 0,
            $"the executor copied the run-token key into the test bucket as {leaked.Count} of {copied.Length} output files (e.g. {leaked.FirstOrDefault()})");
    }

    /// <summary>
    /// The destination side: CheckCopies refuses a link on the destination's own path
    /// (BatchScopeRule.RefuseLinks walks gs://bucket/key only), but a copied folder's files are written to
    /// &lt;destination&gt;/&lt;their path in the folder&gt;, and LocalFolderStore.WriteAsync makes and writes each by
    /// its path. The job links a subfolder of the destination (in its own test bucket) to another
    /// dataset's main bucket before it ends, and puts the same subfolder in its output folder: the
    /// executor writes the job's file there.
    /// </summary>
    [Fact]
    public async Task A_sandboxed_job_cannot_land_a_copied_folders_file_in_another_datasets_main_bucket_through_a_link_under_the_destination()
    {
        var otherMain = Bucket("cpg-other-main");
        Directory.CreateDirectory(otherMain);
        var destination = Path.Combine(Bucket($"cpg-{Dataset}-test"), "landing");
        var outFolder = ResourcePlaceholder.ForJob(0, "out");
        var id = await _home.SubmitAndWakeAsync(InRun(_home.Batch(
            TestHome.Job(0,
                $"mkdir -p {ShellQuoting.Quote(destination)} && ln -s {ShellQuoting.Quote(otherMain)} {ShellQuoting.Quote(destination)}/sub && echo planted",
                $"mkdir -p {outFolder}/sub && echo attacker-data > {outFolder}/sub/object.txt") with
            {
                Outputs = [new OutputCopy(outFolder, $"gs://cpg-{Dataset}-test/landing")],
            })));

        _home.WaitForBatch(id);

        Assert.True(_home.Stdout(id, 1) == "planted\n", $"the job could not plant its link, so this proves nothing: {_home.Stderr(id, 1)}");
        var landed = Directory.GetFiles(otherMain, "*", SearchOption.AllDirectories);
        Assert.True(landed.Length == 0, $"the executor wrote a test-level job's file into cpg-other-main: {string.Join(", ", landed)}");
    }
}
