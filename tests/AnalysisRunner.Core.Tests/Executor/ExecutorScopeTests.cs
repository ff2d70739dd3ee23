using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// The executor's second look: batch rows written straight into the database (as if Submit-Batch had
/// been bypassed) get no more than their recorded scope, and the driver checks its script again.
/// </summary>
public sealed class ExecutorScopeTests : IDisposable
{
    private readonly TestHome _home = new();
    private readonly Hosting.Deployment _deployment;

    public ExecutorScopeTests() => _deployment = Hosting.Deployment.Open(_home.Home);

    public void Dispose() => _home.Dispose();

    private RunRecord LogRun(AccessLevel level = AccessLevel.Test)
    {
        var arGuid = Guid.NewGuid().ToString();
        var run = new RunRecord
        {
            ArGuid = arGuid, Timestamp = DateTimeOffset.UtcNow, User = Environment.UserName, Dataset = "fewgenomes", AccessLevel = level,
            Script = "x", Description = "d", OutputPrefix = "o", OutputDir = "o", ConfigPath = _deployment.Configs.PathFor(arGuid),
        };
        return _deployment.Database.InTransaction((c, t) => new SqliteAuditLog(_deployment.Database).Append(run, c, t));
    }

    private static JobSpec Writer(string destination) => TestHome.Job(0, $"echo x > {ResourcePlaceholder.ForJob(0, "out")}") with
    {
        Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "out"), destination)],
    };

    private async Task<JobInfo> RunOneAsync(BatchSpec spec)
    {
        var id = await _home.SubmitAndWakeAsync(spec);
        _home.WaitForBatch(id);
        return (await _home.Store.GetJobAsync(id, 1))!;
    }

    [Fact]
    public async Task A_test_runs_batch_written_past_Submit_Batch_cannot_copy_into_a_main_bucket()
    {
        var run = LogRun();
        var job = await RunOneAsync(_home.Batch(Writer("gs://cpg-fewgenomes-main/escape.txt")) with { ArGuid = run.ArGuid, TmpRoot = "gs://cpg-fewgenomes-test-tmp/b" });

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("outside the batch's scope", job.Reason);
        Assert.Contains("may use only gs://cpg-fewgenomes-test", job.Reason);
        Assert.False(File.Exists(Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-main", "escape.txt")));
    }

    [Fact]
    public async Task A_batch_outside_any_run_copies_only_where_its_recorded_author_is_a_member()
    {
        var spec = _home.Batch(Writer("gs://cpg-fewgenomes-main/by-author.txt"));
        var stranger = await RunOneAsync(spec with { Attributes = new Dictionary<string, string> { ["author"] = "mallory@example.org" } });
        var nobody = await RunOneAsync(spec);

        Assert.Contains("'mallory@example.org' is not in datasets.fewgenomes.members.standard", stranger.Reason);
        Assert.Contains("'' is not in datasets.fewgenomes.members.standard", nobody.Reason);
        Assert.False(File.Exists(Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-main", "by-author.txt")));
    }

    [Fact]
    public async Task A_batch_claiming_a_run_the_log_does_not_have_gets_no_scope_and_no_token()
    {
        var job = await RunOneAsync(_home.Batch(TestHome.Job(0, "echo \"token=$AR_RUN_TOKEN\"")) with { ArGuid = Guid.NewGuid().ToString() });

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("not in the audit log", job.Reason);
    }

    [Fact]
    public async Task A_copy_through_a_symbolic_link_in_a_bucket_is_refused()
    {
        var bucket = Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-test");
        Directory.CreateDirectory(bucket);
        Directory.CreateSymbolicLink(Path.Combine(bucket, "link"), _home.Root);
        var registry = File.ReadAllText(Path.Combine(_home.Root, "registry.toml"));
        var run = LogRun();

        var job = await RunOneAsync(_home.Batch(Writer("gs://cpg-fewgenomes-test/link/registry.toml")) with { ArGuid = run.ArGuid, TmpRoot = "gs://cpg-fewgenomes-test-tmp/b" });

        Assert.Contains("outside the batch's scope", job.Reason);
        Assert.Contains("is a symbolic link", job.Reason);
        Assert.Equal(registry, File.ReadAllText(Path.Combine(_home.Root, "registry.toml")));
    }

    [Fact]
    public async Task A_link_the_job_makes_in_its_bucket_while_it_runs_does_not_redirect_its_output_copy()
    {
        var registry = File.ReadAllText(Path.Combine(_home.Root, "registry.toml"));
        var run = LogRun();
        var bucket = Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-test");
        var job = await RunOneAsync(_home.Batch(TestHome.Job(0,
                $"mkdir -p {bucket} && ln -s \"$AR_HOME\" {bucket}/late-link",
                $"echo x > {ResourcePlaceholder.ForJob(0, "out")}") with
            {
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "out"), "gs://cpg-fewgenomes-test/late-link/registry.toml")],
            }) with { ArGuid = run.ArGuid, TmpRoot = "gs://cpg-fewgenomes-test-tmp/b" });

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("is a symbolic link", job.Reason);
        Assert.Equal(registry, File.ReadAllText(Path.Combine(_home.Root, "registry.toml")));
    }

    [Fact]
    public async Task An_output_the_job_replaced_by_a_link_to_the_runners_key_is_not_copied()
    {
        var run = LogRun();
        var job = await RunOneAsync(_home.Batch(TestHome.Job(0,
                $"mkdir -p $(dirname {ResourcePlaceholder.ForJob(0, "out")}) && ln -s \"$AR_HOME/keys/run-token.key\" {ResourcePlaceholder.ForJob(0, "out")}") with
            {
                Outputs = [new OutputCopy(ResourcePlaceholder.ForJob(0, "out"), "gs://cpg-fewgenomes-test/stolen.key")],
            }) with { ArGuid = run.ArGuid, TmpRoot = "gs://cpg-fewgenomes-test-tmp/b" });

        Assert.Equal(JobState.Failed, job.State);
        Assert.Contains("is a symbolic link", job.Reason);
        Assert.False(File.Exists(Path.Combine(_home.Root, "buckets", "cpg-fewgenomes-test", "stolen.key")));
    }

    [Fact]
    public async Task Only_the_jobs_of_a_logged_runs_batches_get_its_capability()
    {
        var run = LogRun();
        var inRun = await _home.SubmitAndWakeAsync(_home.Batch(TestHome.Job(0, "echo \"token=$AR_RUN_TOKEN\"")) with { ArGuid = run.ArGuid, TmpRoot = "gs://cpg-fewgenomes-test-tmp/b" });
        var outside = await _home.SubmitAndWakeAsync(_home.Batch(TestHome.Job(0, "echo \"token=$AR_RUN_TOKEN\"")));
        _home.WaitForBatch(inRun);
        _home.WaitForBatch(outside);

        var token = _home.Stdout(inRun, 1).Trim()["token=".Length..];
        Assert.Equal(run.ArGuid, (await _deployment.RunTokens.VerifyAsync(token)).ArGuid);
        Assert.Equal("token=", _home.Stdout(outside, 1).Trim());
    }

    [Fact]
    public async Task The_driver_checks_its_script_again_in_the_commit_it_cloned_from_the_mirror()
    {
        var source = Path.Combine(_home.Root, "src");
        Directory.CreateDirectory(source);
        Git(source, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(source, "ok.sh"), "#!/bin/sh\necho from-mirror\n");
        File.SetUnixFileMode(Path.Combine(source, "ok.sh"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(source, "link.sh"), "/bin/echo");
        Git(source, "add", ".");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "one");
        var commit = Git(source, "rev-parse", "HEAD");
        var mirror = Path.Combine(_home.Root, "mirror.git");
        Git(_home.Root, "clone", "-q", "--bare", source, mirror);
        var unreachable = "https://git.example.invalid/org/repo.git";

        var linked = await RunOneAsync(_home.Batch(TestHome.Job(0, "./link.sh hi") with
        {
            Checkout = new CheckoutSpec(unreachable, commit, ".") { Script = "link.sh", Mirror = mirror },
        }));
        var ok = await _home.SubmitAndWakeAsync(_home.Batch(TestHome.Job(0, "./ok.sh", "git remote get-url origin") with
        {
            Checkout = new CheckoutSpec(unreachable, commit, ".") { Script = "ok.sh", Mirror = mirror },
        }));

        Assert.Contains("'link.sh' in commit", linked.Reason);
        Assert.Contains("is a symbolic link", linked.Reason);
        Assert.Equal(BatchState.Succeeded, _home.WaitForBatch(ok).State);
        // The driver's log starts with the runner's steps ([runner …] lines); the script's own output follows.
        var own = _home.Stdout(ok, 1).Split('\n').Where(line => !line.StartsWith("[runner ", StringComparison.Ordinal));
        Assert.Equal($"from-mirror\n{unreachable}\n", string.Join('\n', own));
    }

    private static string Git(string cwd, params string[] args) => GitFixture.Git(cwd, args).Trim();
}
