using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Building;

namespace AnalysisRunner.Core.Tests.Batch.Building;

public class BatchBuilderTests
{
    private static BatchBuilder NewBatch() => new("hello", "gs://cpg-test-tmp/ar");

    [Fact]
    public void Jobs_get_indices_in_order_and_ids_from_one()
    {
        var batch = NewBatch();
        var first = batch.AddJob("first");
        var second = batch.AddJob("second");
        Assert.Equal([first, second], batch.Jobs);
        Assert.Equal((0, 1), (first.Index, first.JobId));
        Assert.Equal((1, 2), (second.Index, second.JobId));
        Assert.Same(batch, second.Batch);
    }

    [Fact]
    public void A_resource_prints_as_its_placeholder_so_it_can_go_in_a_command()
    {
        var batch = NewBatch();
        batch.AddJob("zero");
        var job = batch.AddJob("one");
        Assert.Equal("{{ar:1:out}}", job.Out.ToString());
        Assert.Equal("{{ar:1:vcf}}", job.Resource("vcf").ToString());
        Assert.Equal("cat {{ar:1:out}}", $"cat {job.Out}");
        Assert.Same(job.Out, job.Out);
        Assert.Equal((1, "out", (string?)null), (job.Out.JobIndex, job.Out.Name, job.Out.Member));
    }

    [Fact]
    public void A_resource_group_prints_its_root_and_each_member_separately()
    {
        var job = NewBatch().AddJob("align");
        var cram = job.ResourceGroup("cram", new Dictionary<string, string> { ["cram"] = "{root}.cram", ["crai"] = "{root}.cram.crai" });
        Assert.Equal("{{ar:0:cram}}", cram.ToString());
        Assert.Equal("{{ar:0:cram/crai}}", cram["crai"].ToString());
        Assert.Equal("{{ar:0:cram/cram}}", cram.GetMember("cram").ToString());
        Assert.Equal("crai", cram["crai"].Member);
        var unknown = Assert.Throws<BatchValidationException>(() => cram["bai"]);
        Assert.Equal("UnknownGroupMember", unknown.ErrorId);
        Assert.Contains("crai", unknown.Message);
    }

    [Fact]
    public void A_group_declared_twice_alike_is_the_same_group_and_a_clash_is_refused()
    {
        var job = NewBatch().AddJob("align");
        var members = new Dictionary<string, string> { ["bam"] = "{root}.bam" };
        Assert.Same(job.ResourceGroup("bam", members), job.ResourceGroup("bam", members));
        Assert.Equal("ResourceNameInUse", Assert.Throws<BatchValidationException>(() => job.Resource("bam")).ErrorId);
        Assert.Equal("ResourceNameInUse", Assert.Throws<BatchValidationException>(
            () => job.ResourceGroup("bam", new Dictionary<string, string> { ["bai"] = "{root}.bai" })).ErrorId);
        job.Resource("plain");
        Assert.Equal("ResourceNameInUse", Assert.Throws<BatchValidationException>(() => job.ResourceGroup("plain", members)).ErrorId);
    }

    [Theory]
    [InlineData("cram.cram")]
    [InlineData("{root}/../x")]
    [InlineData("")]
    public void A_group_member_pattern_must_be_a_file_name_built_on_root(string pattern)
    {
        var job = NewBatch().AddJob("align");
        var error = Assert.Throws<BatchValidationException>(() => job.ResourceGroup("g", new Dictionary<string, string> { ["m"] = pattern }));
        Assert.Equal("InvalidResourceGroup", error.ErrorId);
        Assert.Contains("'align' (job 1)", error.Message);
    }

    [Fact]
    public void Resource_names_that_could_break_a_placeholder_are_refused()
    {
        var job = NewBatch().AddJob("j");
        Assert.Equal("InvalidResourceName", Assert.Throws<BatchValidationException>(() => job.Resource("a b}}")).ErrorId);
    }

    [Fact]
    public void Inputs_print_as_input_placeholders_and_keep_their_paths()
    {
        var batch = NewBatch();
        var vcf = batch.ReadInput("gs://cpg-test/x.vcf.gz");
        var local = batch.ReadInput("/data/ref.fa");
        var group = batch.ReadInputGroup(new Dictionary<string, string> { ["vcf"] = "gs://b/y.vcf.gz", ["tbi"] = "gs://b/y.vcf.gz.tbi" });
        Assert.Equal("{{ar:in:0}}", vcf.ToString());
        Assert.Equal("{{ar:in:1}}", local.ToString());
        Assert.Equal("{{ar:in:2}}", group.ToString());
        Assert.Equal("{{ar:in:2/tbi}}", group["tbi"].ToString());
        Assert.Equal("gs://b/y.vcf.gz.tbi", group["tbi"].Path);
        var spec = batch.Build();
        Assert.Equal("gs://cpg-test/x.vcf.gz", spec.Inputs[0].Path);
        Assert.Equal("/data/ref.fa", spec.Inputs[1].Path);
        Assert.Equal("gs://b/y.vcf.gz", spec.Inputs[2].Group!["vcf"]);
        Assert.Equal([0, 1, 2], spec.Inputs.Select(input => input.Index));
    }

    [Theory]
    [InlineData("gs://bucket/a/../../secret")]
    [InlineData("/data/../etc/passwd")]
    [InlineData("s3://bucket/key")]
    [InlineData("gs:///key")]
    [InlineData("gs://Bad Bucket/key")]
    [InlineData("relative/file.txt")]
    [InlineData("")]
    public void Input_paths_must_be_gs_uris_or_absolute_paths_without_dotdot(string path)
    {
        var error = Assert.Throws<BatchValidationException>(() => NewBatch().ReadInput(path));
        Assert.Equal("InvalidInputPath", error.ErrorId);
        Assert.Equal(path, error.Target);
        Assert.Contains($"'{path}'", error.Message);
    }

    [Fact]
    public void A_bad_member_path_of_an_input_group_is_refused()
    {
        var error = Assert.Throws<BatchValidationException>(
            () => NewBatch().ReadInputGroup(new Dictionary<string, string> { ["vcf"] = "gs://b/x.vcf", ["tbi"] = "../x.tbi" }));
        Assert.Equal("InvalidInputPath", error.ErrorId);
        Assert.Equal("../x.tbi", error.Target);
    }

    [Fact]
    public void A_job_that_names_no_image_gets_the_batchs_default_and_one_that_does_keeps_its_own()
    {
        var batch = NewBatch();
        batch.DefaultImage = "registry.example.org/approved/driver:1";
        batch.AddJob("plain").AddCommand("true");
        var own = batch.AddJob("own");
        own.AddCommand("true");
        own.Image = "registry.example.org/approved/samtools:1";

        var jobs = batch.Build().Jobs;

        Assert.Equal("registry.example.org/approved/driver:1", jobs[0].Image);
        Assert.Equal("registry.example.org/approved/samtools:1", jobs[1].Image);
        var withoutDefault = NewBatch();
        withoutDefault.AddJob("plain").AddCommand("true");
        Assert.Null(withoutDefault.Build().Jobs[0].Image);
    }

    [Fact]
    public void Build_carries_every_job_setting_into_the_spec()
    {
        var batch = NewBatch();
        batch.ArGuid = "ar-1";
        batch.ConfigPath = "/home/configs/ar-1.toml";
        batch.Attributes["author"] = "alice";
        var first = batch.AddJob("first");
        first.AddCommand($"echo hi > {first.Out}");
        var second = batch.AddJob("second");
        var group = second.ResourceGroup("cram", new Dictionary<string, string> { ["cram"] = "{root}.cram" });
        second.AddCommand($"samtools view {first.Out} > {group["cram"]}");
        second.AddCommand("true");
        second.Image = "australia-southeast1-docker.pkg.dev/cpg/images/samtools:1.18";
        second.Cpu = 2;
        second.MemoryBytes = 8L << 30;
        second.StorageBytes = 20L << 30;
        second.Preemptible = true;
        second.Environment["REF"] = "hg38";
        second.Attributes["sample"] = "CPG1";
        second.DependOn(first);
        second.AlwaysRun = true;
        second.Timeout = TimeSpan.FromHours(2);
        second.MaxAttempts = 3;
        second.WriteOutput(group, "gs://cpg-test-main/out/sample");

        var spec = batch.Build();
        Assert.Equal(("hello", "gs://cpg-test-tmp/ar", "ar-1", "/home/configs/ar-1.toml"), (spec.Name, spec.TmpRoot, spec.ArGuid, spec.ConfigPath));
        Assert.Equal("alice", spec.Attributes["author"]);
        var job = spec.Jobs[1];
        Assert.Equal((1, "second"), (job.Index, job.Name));
        Assert.Equal(["samtools view {{ar:0:out}} > {{ar:1:cram/cram}}", "true"], job.Commands);
        Assert.Equal("australia-southeast1-docker.pkg.dev/cpg/images/samtools:1.18", job.Image);
        Assert.Equal((2.0, 8L << 30, (long?)(20L << 30), true), (job.Cpu, job.MemoryBytes, job.StorageBytes, job.Preemptible));
        Assert.Equal("hg38", job.Environment["REF"]);
        Assert.Equal("CPG1", job.Attributes["sample"]);
        Assert.Equal([0], job.DependsOn);
        Assert.Equal((true, (TimeSpan?)TimeSpan.FromHours(2), 3), (job.AlwaysRun, job.Timeout, job.MaxAttempts));
        Assert.Equal("{root}.cram", job.ResourceGroups["cram"]["cram"]);
        Assert.Equal([new OutputCopy("{{ar:1:cram}}", "gs://cpg-test-main/out/sample")], job.Outputs);
        Assert.Equal((1.0, 1L << 30, 1), (spec.Jobs[0].Cpu, spec.Jobs[0].MemoryBytes, spec.Jobs[0].MaxAttempts));
    }

    [Fact]
    public void Build_is_a_snapshot_that_later_changes_do_not_reach()
    {
        var batch = NewBatch();
        var job = batch.AddJob("j");
        job.AddCommand("one");
        job.Environment["A"] = "1";
        var spec = batch.Build();
        job.AddCommand("two");
        job.Environment["A"] = "2";
        Assert.Equal(["one"], spec.Jobs[0].Commands);
        Assert.Equal("1", spec.Jobs[0].Environment["A"]);
    }

    [Fact]
    public void Using_another_jobs_resource_makes_the_dependency()
    {
        var batch = NewBatch();
        var producer = batch.AddJob("produce");
        producer.AddCommand($"echo hi > {producer.Out}");
        var consumer = batch.AddJob("consume");
        consumer.AddCommand($"cat {producer.Out}");
        Assert.Equal([0], DagValidator.Parents(batch.Build().Jobs[1]));
        Assert.Empty(DagValidator.Parents(batch.Build().Jobs[0]));
    }

    [Fact]
    public void A_job_cannot_depend_on_itself_or_on_a_job_of_another_batch()
    {
        var batch = NewBatch();
        var job = batch.AddJob("j");
        var self = Assert.Throws<BatchValidationException>(() => job.DependOn(job));
        Assert.Equal("DependencyCycle", self.ErrorId);
        Assert.Contains("'j' (job 1)", self.Message);
        var stranger = NewBatch().AddJob("stranger");
        Assert.Equal("JobFromAnotherBatch", Assert.Throws<AnalysisRunnerException>(() => job.DependOn(stranger)).ErrorId);
        Assert.Equal("ResourceFromAnotherBatch",
            Assert.Throws<AnalysisRunnerException>(() => job.WriteOutput(stranger.Out, "gs://b/x")).ErrorId);
    }

    [Fact]
    public void Depending_twice_on_the_same_job_records_it_once()
    {
        var batch = NewBatch();
        var a = batch.AddJob("a");
        var b = batch.AddJob("b");
        b.DependOn(a);
        b.DependOn(a);
        Assert.Equal([0], b.DependsOn);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("https://example.org/x")]
    public void Output_destinations_are_checked_like_input_paths(string destination)
    {
        var job = NewBatch().AddJob("j");
        var error = Assert.Throws<BatchValidationException>(() => job.WriteOutput(job.Out, destination));
        Assert.Equal("InvalidOutputPath", error.ErrorId);
        Assert.Equal(destination, error.Target);
    }

    [Fact]
    public void Bad_job_settings_are_refused_with_the_job_named()
    {
        var job = NewBatch().AddJob("align");
        Assert.Equal("InvalidCpu", Assert.Throws<AnalysisRunnerException>(() => job.Cpu = 0).ErrorId);
        Assert.Equal("InvalidCpu", Assert.Throws<AnalysisRunnerException>(() => job.Cpu = double.NaN).ErrorId);
        Assert.Equal("InvalidMemory", Assert.Throws<AnalysisRunnerException>(() => job.MemoryBytes = -1).ErrorId);
        Assert.Equal("InvalidStorage", Assert.Throws<AnalysisRunnerException>(() => job.StorageBytes = 0).ErrorId);
        Assert.Equal("InvalidMaxAttempts", Assert.Throws<AnalysisRunnerException>(() => job.MaxAttempts = 0).ErrorId);
        Assert.Equal("InvalidTimeout", Assert.Throws<AnalysisRunnerException>(() => job.Timeout = TimeSpan.Zero).ErrorId);
        Assert.Equal("InvalidCommand", Assert.Throws<BatchValidationException>(() => job.AddCommand("echo a\0rm -rf x")).ErrorId);
        var empty = Assert.Throws<BatchValidationException>(() => job.AddCommand("  "));
        Assert.Equal("EmptyCommand", empty.ErrorId);
        Assert.Contains("'align' (job 1)", empty.Message);
        job.StorageBytes = null;
        Assert.Null(job.StorageBytes);
    }

    [Theory]
    [InlineData("bash -e")]
    [InlineData("relative/sh")]
    [InlineData("")]
    [InlineData("bash\n")]
    public void A_shell_must_be_a_program_name_or_an_absolute_path(string shell)
    {
        var job = NewBatch().AddJob("index");
        var error = Assert.Throws<AnalysisRunnerException>(() => job.Shell = shell);
        Assert.Equal("InvalidShell", error.ErrorId);
        Assert.Equal(shell, error.Target);
        Assert.Contains("'index' (job 1)", error.Message);
    }

    [Fact]
    public void A_shell_given_by_name_or_path_is_kept_in_the_spec()
    {
        var batch = NewBatch();
        batch.AddJob("a").Shell = "sh";
        batch.AddJob("b").Shell = "/usr/bin/zsh";
        batch.AddJob("c");
        Assert.Equal(["sh", "/usr/bin/zsh", null], batch.Build().Jobs.Select(job => job.Shell));
    }

    [Fact]
    public void Every_change_after_submission_is_refused()
    {
        var batch = NewBatch();
        var job = batch.AddJob("j");
        var other = batch.AddJob("k");
        job.AddCommand($"echo > {job.Out}");
        batch.SubmittedBatchId = 42;

        Action[] changes =
        [
            () => batch.Name = "renamed",
            () => batch.TmpRoot = "/tmp/x",
            () => batch.ArGuid = "g",
            () => batch.ConfigPath = "/c.toml",
            () => batch.Attributes["a"] = "b",
            () => batch.AddJob("late"),
            () => batch.ReadInput("gs://b/x"),
            () => batch.ReadInputGroup(new Dictionary<string, string> { ["a"] = "gs://b/a" }),
            () => batch.SubmittedBatchId = 43,
            () => job.Name = "renamed",
            () => job.AddCommand("echo"),
            () => job.Image = "ubuntu",
            () => job.Cpu = 2,
            () => job.MemoryBytes = 2L << 30,
            () => job.StorageBytes = 1L << 30,
            () => job.Preemptible = true,
            () => job.Environment["A"] = "1",
            () => job.Environment.Remove("A"),
            () => job.Attributes.Add("a", "b"),
            () => job.DependOn(other),
            () => job.AlwaysRun = true,
            () => job.Timeout = TimeSpan.FromMinutes(1),
            () => job.MaxAttempts = 2,
            () => job.Resource("new"),
            () => job.ResourceGroup("g", new Dictionary<string, string> { ["m"] = "{root}.m" }),
            () => job.WriteOutput(job.Out, "gs://b/out"),
        ];
        foreach (var change in changes)
        {
            var error = Assert.Throws<AnalysisRunnerException>(change);
            Assert.Equal("BatchAlreadySubmitted", error.ErrorId);
            Assert.Equal(ErrorKind.InvalidOperation, error.Kind);
            Assert.Contains("42", error.Message);
        }
        Assert.Equal("{{ar:0:out}}", job.Out.ToString());
        Assert.Equal(42, batch.SubmittedBatchId);
        Assert.Equal(["echo > {{ar:0:out}}"], job.Commands);
    }
}
