using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Building;

namespace AnalysisRunner.Core.Tests.Batch;

public class DagValidatorTests
{
    private const double MaxCpu = 8;
    private const long MaxMemory = 32L << 30;

    private static BatchBuilder NewBatch() => new("dag", "/tmp/ar-tmp");

    private static BatchValidationException Refused(BatchBuilder batch) => Refused(batch.Build());

    private static BatchValidationException Refused(BatchSpec spec) =>
        Assert.Throws<BatchValidationException>(() => DagValidator.Validate(spec, MaxCpu, MaxMemory));

    private static JobSpec Job(int index, string name, params string[] commands) => new() { Index = index, Name = name, Commands = commands };

    private static BatchSpec Spec(params JobSpec[] jobs) => new() { Name = "dag", TmpRoot = "/tmp/ar-tmp", Jobs = jobs };

    [Fact]
    public void A_pipeline_that_hands_files_along_is_accepted()
    {
        var batch = NewBatch();
        var input = batch.ReadInput("gs://cpg-test/in.txt");
        var refs = batch.ReadInputGroup(new Dictionary<string, string> { ["fa"] = "/ref/hg38.fa", ["fai"] = "/ref/hg38.fa.fai" });
        var align = batch.AddJob("align");
        var cram = align.ResourceGroup("cram", new Dictionary<string, string> { ["cram"] = "{root}.cram", ["crai"] = "{root}.cram.crai" });
        align.AddCommand($"bwa {refs["fa"]} {input} > {cram["cram"]} && index {cram}");
        var call = align.Batch.AddJob("call");
        call.AddCommand($"call {cram["cram"]} {cram["crai"]} {refs} > {call.Out}");
        call.WriteOutput(call.Out, "gs://cpg-test-main/calls.vcf");
        var report = batch.AddJob("report");
        report.AddCommand("echo done");
        report.DependOn(call);
        report.WriteOutput(cram, "gs://cpg-test-main/sample");

        DagValidator.Validate(batch.Build(), MaxCpu, MaxMemory);
        Assert.Equal([0], DagValidator.Parents(batch.Build().Jobs[1]));
        Assert.Equal([1, 0], DagValidator.Parents(batch.Build().Jobs[2]));
    }

    [Fact]
    public void Parents_are_distinct_and_leave_out_the_job_itself()
    {
        var job = new JobSpec
        {
            Index = 2,
            Name = "c",
            Commands = ["cat {{ar:0:out}} {{ar:0:out}} > {{ar:2:out}}", "cat {{ar:1:x/y}}"],
            DependsOn = [1, 0],
            Outputs = [new OutputCopy("{{ar:3:out}}", "gs://b/x")],
        };
        Assert.Equal([1, 0, 3], DagValidator.Parents(job));
    }

    [Fact]
    public void An_empty_batch_is_refused()
    {
        var error = Refused(NewBatch());
        Assert.Equal("EmptyBatch", error.ErrorId);
        Assert.Contains("'dag'", error.Message);
    }

    [Fact]
    public void Jobs_without_commands_are_refused_by_name_and_id()
    {
        var batch = NewBatch();
        batch.AddJob("has-one").AddCommand("true");
        batch.AddJob("empty-one");
        batch.AddJob("empty-two");
        var error = Refused(batch);
        Assert.Equal("JobHasNoCommand", error.ErrorId);
        Assert.Contains("'empty-one' (job 2)", error.Message);
        Assert.Contains("'empty-two' (job 3)", error.Message);
        Assert.DoesNotContain("has-one", error.Message);
        Assert.Equal(new[] { "empty-one", "empty-two" }, error.Target);
    }

    [Fact]
    public void A_job_bigger_than_the_executor_is_refused_with_the_limit()
    {
        var batch = NewBatch();
        var small = batch.AddJob("small");
        small.AddCommand("true");
        var wide = batch.AddJob("wide");
        wide.AddCommand("true");
        wide.Cpu = 16;
        var tall = batch.AddJob("tall");
        tall.AddCommand("true");
        tall.MemoryBytes = 64L << 30;
        var error = Refused(batch);
        Assert.Equal("ResourcesExceedExecutor", error.ErrorId);
        Assert.Equal(ErrorKind.LimitsExceeded, error.Kind);
        Assert.Contains("'wide' (job 2) asks for 16 cpu", error.Message);
        Assert.Contains("'tall' (job 3)", error.Message);
        Assert.Contains("64Gi", error.Message);
        Assert.Contains("8 cpu, 32Gi memory", error.Message);
        Assert.DoesNotContain("small", error.Message);
        Assert.Equal(new[] { "wide", "tall" }, error.Target);
    }

    [Fact]
    public void Reading_a_resource_its_job_never_writes_is_refused()
    {
        var batch = NewBatch();
        var quiet = batch.AddJob("quiet");
        quiet.AddCommand("echo nothing");
        var reader = batch.AddJob("reader");
        reader.AddCommand($"cat {quiet.Out}");
        var error = Refused(batch);
        Assert.Equal("ResourceNotWritten", error.ErrorId);
        Assert.Contains("'reader' (job 2) uses {{ar:0:out}}", error.Message);
        Assert.Contains("'quiet' (job 1)", error.Message);
        Assert.Equal(new[] { "reader" }, error.Target);
    }

    [Fact]
    public void A_group_member_is_written_when_its_job_mentions_the_group()
    {
        var batch = NewBatch();
        var align = batch.AddJob("align");
        var cram = align.ResourceGroup("cram", new Dictionary<string, string> { ["cram"] = "{root}.cram", ["crai"] = "{root}.cram.crai" });
        align.AddCommand($"align --out-prefix {cram}");
        batch.AddJob("read").AddCommand($"cat {cram["crai"]}");
        DagValidator.Validate(batch.Build(), MaxCpu, MaxMemory);
    }

    [Fact]
    public void A_member_no_group_declares_is_refused()
    {
        var error = Refused(Spec(Job(0, "writer", "echo > {{ar:0:cram}}"), Job(1, "reader", "cat {{ar:0:cram/bai}}")));
        Assert.Equal("ResourceNotWritten", error.ErrorId);
        Assert.Contains("'reader' (job 2) uses {{ar:0:cram/bai}}", error.Message);
        Assert.Contains("'writer' (job 1) declares", error.Message);
    }

    [Fact]
    public void A_placeholder_for_a_job_that_does_not_exist_is_refused()
    {
        var error = Refused(Spec(Job(0, "lonely", "cat {{ar:5:out}}")));
        Assert.Equal("ResourceNotWritten", error.ErrorId);
        Assert.Contains("'lonely' (job 1) uses {{ar:5:out}}, which names job 6, and the batch has 1", error.Message);
    }

    [Fact]
    public void Writing_out_a_resource_nobody_writes_is_refused()
    {
        var batch = NewBatch();
        var job = batch.AddJob("forgetful");
        job.AddCommand("echo hi");
        job.WriteOutput(job.Out, "gs://cpg-test-main/out.txt");
        var error = Refused(batch);
        Assert.Equal("ResourceNotWritten", error.ErrorId);
        Assert.Contains("'forgetful' (job 1) uses {{ar:0:out}}", error.Message);
    }

    [Fact]
    public void An_input_placeholder_with_no_such_input_is_refused()
    {
        var batch = NewBatch();
        var group = batch.ReadInputGroup(new Dictionary<string, string> { ["vcf"] = "gs://b/x.vcf.gz" });
        batch.AddJob("good").AddCommand($"cat {group["vcf"]}");
        batch.AddJob("bad").AddCommand("cat {{ar:in:3}}");
        batch.AddJob("worse").AddCommand("cat {{ar:in:0/tbi}}");
        var error = Refused(batch);
        Assert.Equal("InputNotFound", error.ErrorId);
        Assert.Contains("'bad' (job 2) uses {{ar:in:3}}", error.Message);
        Assert.Contains("'worse' (job 3) uses {{ar:in:0/tbi}}", error.Message);
        Assert.Equal(new[] { "bad", "worse" }, error.Target);
    }

    [Fact]
    public void Two_jobs_writing_to_one_destination_are_refused()
    {
        var batch = NewBatch();
        var a = batch.AddJob("a");
        a.AddCommand($"echo > {a.Out}");
        a.WriteOutput(a.Out, "gs://cpg-test-main/result.txt");
        var b = batch.AddJob("b");
        b.AddCommand($"echo > {b.Out}");
        b.WriteOutput(b.Out, "gs://cpg-test-main/result.txt");
        var error = Refused(batch);
        Assert.Equal("DuplicateOutput", error.ErrorId);
        Assert.Contains("'a' (job 1) and 'b' (job 2) both write to gs://cpg-test-main/result.txt", error.Message);
        Assert.Equal("gs://cpg-test-main/result.txt", error.Target);
    }

    [Fact]
    public void One_job_writing_twice_to_one_destination_is_refused()
    {
        var batch = NewBatch();
        var a = batch.AddJob("a");
        a.AddCommand($"echo > {a.Out} > {a.Resource("log")}");
        a.WriteOutput(a.Out, "/buckets/out/x");
        a.WriteOutput(a.Resource("log"), "/buckets/out/x/");
        var error = Refused(batch);
        Assert.Equal("DuplicateOutput", error.ErrorId);
        Assert.Contains("'a' (job 1) and 'a' (job 1)", error.Message);
    }

    [Fact]
    public void A_cycle_through_resources_is_refused_with_its_path()
    {
        var error = Refused(Spec(
            Job(0, "origin", "echo > {{ar:0:out}}"),
            Job(1, "a", "cat {{ar:3:out}} > {{ar:1:out}}"),
            Job(2, "b", "cat {{ar:1:out}} {{ar:0:out}} > {{ar:2:out}}"),
            Job(3, "c", "cat {{ar:2:out}} > {{ar:3:out}}"),
            Job(4, "downstream", "cat {{ar:3:out}}")));
        Assert.Equal("DependencyCycle", error.ErrorId);
        Assert.Contains("'a' (job 2) → 'b' (job 3) → 'c' (job 4) → 'a' (job 2)", error.Message);
        Assert.DoesNotContain("origin", error.Message);
        Assert.DoesNotContain("downstream", error.Message);
        Assert.Equal(new[] { "a", "b", "c" }, error.Target);
    }

    [Fact]
    public void A_cycle_through_depends_on_is_refused()
    {
        var error = Refused(Spec(
            Job(0, "x", "true") with { DependsOn = [1] },
            Job(1, "y", "true") with { DependsOn = [0] }));
        Assert.Equal("DependencyCycle", error.ErrorId);
        Assert.Contains("'x' (job 1) → 'y' (job 2) → 'x' (job 1)", error.Message);
    }

    [Fact]
    public void A_job_that_depends_on_itself_is_a_cycle_but_using_its_own_resources_is_not()
    {
        DagValidator.Validate(Spec(Job(0, "self-user", "echo > {{ar:0:out}}; cat {{ar:0:out}}")), MaxCpu, MaxMemory);
        var error = Refused(Spec(Job(0, "ouroboros", "true") with { DependsOn = [0] }));
        Assert.Equal("DependencyCycle", error.ErrorId);
        Assert.Contains("'ouroboros' (job 1)", error.Message);
    }

    [Fact]
    public void A_dependency_on_a_job_that_does_not_exist_is_refused()
    {
        var error = Refused(Spec(Job(0, "early", "true") with { DependsOn = [7] }));
        Assert.Equal("DependencyNotFound", error.ErrorId);
        Assert.Contains("'early' (job 1) depends on job 8", error.Message);
    }

    [Fact]
    public void A_ten_thousand_job_chain_validates_without_recursing()
    {
        const int count = 10_000;
        var batch = NewBatch();
        JobBuilder? previous = null;
        for (var i = 0; i < count; i++)
        {
            var job = batch.AddJob($"step-{i}");
            job.AddCommand(previous is null ? $"echo 0 > {job.Out}" : $"cat {previous.Out} > {job.Out}");
            previous = job;
        }
        var spec = batch.Build();
        DagValidator.Validate(spec, MaxCpu, MaxMemory);

        // Closing the chain into a loop must be found and reported end to end.
        var closed = spec with { Jobs = spec.Jobs.Select(j => j.Index == 0 ? j with { Commands = [$"cat {{{{ar:{count - 1}:out}}}} > {{{{ar:0:out}}}}"] } : j).ToArray() };
        var error = Refused(closed);
        Assert.Equal("DependencyCycle", error.ErrorId);
        Assert.Equal(count, ((string[])error.Target!).Length);
    }

    [Fact]
    public void A_ten_thousand_job_fan_out_and_fan_in_validates()
    {
        const int count = 10_000;
        var batch = NewBatch();
        var root = batch.AddJob("root");
        root.AddCommand($"echo > {root.Out}");
        var leaves = new List<JobBuilder>();
        for (var i = 0; i < count; i++)
        {
            var leaf = batch.AddJob($"leaf-{i}");
            leaf.AddCommand($"cat {root.Out} > {leaf.Out}");
            leaves.Add(leaf);
        }
        var gather = batch.AddJob("gather");
        foreach (var leaf in leaves) gather.DependOn(leaf);
        gather.AddCommand("echo gathered");
        DagValidator.Validate(batch.Build(), MaxCpu, MaxMemory);
        Assert.Equal(count, DagValidator.Parents(batch.Build().Jobs[^1]).Count);
    }
}
