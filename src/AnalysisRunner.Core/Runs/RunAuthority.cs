using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// The authority's half of a submission, host-neutral: facts from a client plus a caller identity
/// from the host in; a plan (nothing written) or a logged run out. It never reads the caller's
/// machine: the repository it fetches is the registry's own allowlist entry, the commit and script
/// are resolved in its mirror of that remote, the config is built from the texts the facts carry,
/// and the identity is the host's. Then one write: config, then (one transaction) driver batch and
/// audit row, then the executor is woken.
/// <code>
/// embedded: RunAuthority(deployment).Plan(FactsCapture.Capture(request), deployment.EmbeddedCaller())
/// server:   RunAuthority(deployment).SubmitAsync(SubmissionFacts.FromJson(body), new Caller(tokenUser, "token …"))
/// </code>
/// </summary>
public sealed class RunAuthority(Deployment deployment)
{
    public const string DriverJobName = "driver";

    /// <summary>Plans, refuses if any check refused, and submits: what a host that received facts over the wire calls.</summary>
    public async Task<RunRecord> SubmitAsync(SubmissionFacts facts, Caller caller, CancellationToken cancellationToken = default) =>
        await SubmitAsync(Plan(facts, caller), cancellationToken).ConfigureAwait(false);

    /// <summary>Everything a submission of <paramref name="facts"/> by <paramref name="caller"/> would do, with nothing written.</summary>
    public RunPlan Plan(SubmissionFacts facts, Caller caller) => Plan(facts, caller, rerunOf: null);

    /// <summary>
    /// Runs a logged run again, exactly, as a new run of <paramref name="caller"/>: everything comes
    /// from the stored entry (not from what a client says the entry holds), which must verify in the
    /// audit chain; the policy is checked again as it stands now.
    /// </summary>
    public async Task<RunPlan> PlanRerunAsync(string arGuid, Caller caller, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        var entry = await deployment.RunLog.FindAsync(arGuid, cancellationToken).ConfigureAwait(false)
            ?? throw new AnalysisRunnerException("RunNotFound", ErrorKind.ObjectNotFound, arGuid,
                $"No run with ar_guid '{arGuid}' is in the audit log of {deployment.Home.Root}; Get-AnalysisLog lists them.");
        // Read without blocking (the server plans reruns on the thread pool), and no further than the entry.
        var through = new List<RunRecord>();
        await foreach (var run in deployment.RunLog.ReadChainAsync(cancellationToken).ConfigureAwait(false))
        {
            through.Add(run);
            if (run.ArGuid == arGuid) break;
        }
        AuditChain.CheckThrough(through, arGuid);
        var facts = new SubmissionFacts
        {
            Dataset = entry.Dataset,
            AccessLevel = entry.AccessLevel,
            Description = entry.Description,
            OutputDir = entry.OutputPrefix,
            Script = entry.Script,
            ScriptArguments = entry.ScriptArguments,
            RepositoryUrl = entry.Repository,
            Commit = entry.Commit,
            Cwd = entry.Cwd,
            SkipRepoCheckout = entry.SkipRepoCheckout,
            Image = entry.Image,
            Cpu = entry.Cpu?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Memory = entry.Memory,
            Storage = entry.Storage,
            Preemptible = entry.Preemptible,
            Environment = entry.Environment,
            ConfigFiles = entry.ConfigSnapshots,
        };
        return Plan(facts, caller, arGuid);
    }

    private RunPlan Plan(SubmissionFacts facts, Caller caller, string? rerunOf)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(caller);
        facts.Validate();
        var registry = deployment.LoadRegistry();
        // The dataset names buckets, keys and config sections: nothing is derived from one the registry does not have.
        new DatasetExistsRule().Check(new PolicyRequest { Dataset = facts.Dataset, AccessLevel = facts.AccessLevel, User = caller.User, OutputDir = facts.OutputDir }, registry);
        ReservedEnvironment.Check(facts.Environment, "-Environment");
        if (facts.RepositoryUrl is not null && string.IsNullOrWhiteSpace(facts.Commit))
            throw new SourceException("CommitRequired", ErrorKind.InvalidArgument, facts.RepositoryUrl,
                $"Repository '{facts.RepositoryUrl}' needs a commit too: the runner only runs an exact commit.");

        var request = new PolicyRequest
        {
            Dataset = facts.Dataset,
            AccessLevel = facts.AccessLevel,
            User = caller.User,
            Repository = facts.RepositoryUrl is null ? null : RepositoryName.Normalize(RepositoryName.WithoutCredentials(facts.RepositoryUrl)),
            Commit = facts.Commit,
            Image = facts.Image,
            OutputDir = facts.OutputDir,
            SkipRepoCheckout = facts.SkipRepoCheckout,
            Cwd = facts.Cwd ?? ".",
            Script = facts.Script,
        };

        // Checks that need no network first: a refused submission never makes the runner fetch.
        var checks = new PolicyGate(registry, null).Evaluate(request);
        var allowed = RepositoryAllowlistRule.Allowed(request, registry);
        using var source = checks.Any(check => check.Error is not null) || allowed is null
            ? null
            : deployment.Git.Open(RepositoryName.WithoutCredentials(RepositoryName.ToCloneUrl(allowed)), facts.Commit!, freshMain: facts.AccessLevel != AccessLevel.Test);
        if (source is not null)
        {
            request = request with { Repository = RepositoryName.Normalize(allowed!), Commit = source.Commit, CloneUrl = source.CloneUrl };
            checks = new PolicyGate(registry, source).Evaluate(request);
        }
        var refusal = PolicyGate.RefusalOf(checks);
        var script = refusal is null && source is not null && !facts.SkipRepoCheckout
            ? source.ResolveScript(source.Commit, request.Cwd!, facts.Script)
            : null;

        var arGuid = Guid.NewGuid().ToString();
        // The output prefix is needed for the config even on a refused plan (-WhatIf shows it), so an
        // invalid one falls back to the raw text; the refusal already says why it is wrong.
        var outputPrefix = TryNormalizeOutputDir(facts.OutputDir);
        var buckets = deployment.BucketsFor(facts.Dataset, facts.AccessLevel);
        var image = facts.Image ?? registry.DefaultImage;
        var templates = deployment.TemplatePaths.Select(path => new ConfigSnapshot(path, File.ReadAllText(path)));
        var config = RunConfigBuilder.Build(new RunConfigInput
        {
            ArGuid = arGuid,
            Dataset = facts.Dataset,
            AccessLevel = facts.AccessLevel,
            OutputPrefix = outputPrefix,
            DriverImage = image,
            User = caller.User,
            Repository = request.Repository,
            Commit = request.Commit,
            Description = facts.Description,
            Buckets = buckets,
        }, templates, facts.ConfigFiles);
        var configToml = TomlFiles.Serialize(config);

        var cpu = facts.Cpu is null ? (double?)null : ResourceQuantity.ParseCpu(facts.Cpu);
        var memoryBytes = facts.Memory is null ? (long?)null : ResourceQuantity.ParseMemory(facts.Memory, cpu ?? 1);
        var storageBytes = facts.Storage is null ? (long?)null : ResourceQuantity.ParseStorage(facts.Storage);

        var run = new RunRecord
        {
            ArGuid = arGuid,
            Timestamp = DateTimeOffset.UtcNow,
            User = caller.User,
            Dataset = facts.Dataset,
            AccessLevel = facts.AccessLevel,
            Repository = request.Repository,
            Commit = request.Commit,
            Cwd = script?.Cwd ?? request.Cwd,
            Script = facts.Script,
            ScriptArguments = facts.ScriptArguments.ToList(),
            Description = facts.Description,
            OutputPrefix = outputPrefix,
            OutputDir = buckets.Default.TrimEnd('/') + "/" + outputPrefix,
            ConfigPath = deployment.Configs.PathFor(arGuid),
            Image = image,
            Cpu = cpu,
            Memory = facts.Memory,
            Storage = facts.Storage,
            Preemptible = facts.Preemptible,
            Environment = new Dictionary<string, string>(facts.Environment),
            ConfigFiles = facts.ConfigFiles.Select(file => file.Path).ToList(),
            ConfigSnapshots = facts.ConfigFiles.ToList(),
            SkipRepoCheckout = facts.SkipRepoCheckout,
            RerunOf = rerunOf,
        };

        var command = facts.SkipRepoCheckout ? DriverCommand.ForCommand(facts.Script, facts.ScriptArguments)
            : script is not null ? DriverCommand.ForScript(script, facts.ScriptArguments)
            : $"# refused: {refusal?.ErrorId ?? "not resolved"}";
        var driver = new JobSpec
        {
            Index = 0,
            Name = DriverJobName,
            Commands = [command],
            Image = image,
            Cpu = cpu ?? 1,
            MemoryBytes = memoryBytes ?? ResourceQuantity.ParseMemory("1Gi"),
            StorageBytes = storageBytes,
            Preemptible = facts.Preemptible,
            Environment = new Dictionary<string, string>(facts.Environment),
            Checkout = facts.SkipRepoCheckout || source is null
                ? null
                : new CheckoutSpec(source.CloneUrl, source.Commit, run.Cwd!) { Script = facts.Script, Mirror = source.MirrorPath },
        };
        var driverBatch = new BatchSpec
        {
            Name = $"{facts.Dataset}/{facts.AccessLevel.ToConfigName()}: {facts.Description}",
            ArGuid = arGuid,
            ConfigPath = run.ConfigPath,
            TmpRoot = buckets.Tmp.TrimEnd('/') + "/batch",
            Attributes = RunAttributes(run),
            Jobs = [driver],
        };
        if (refusal is null)
        {
            var largest = deployment.Runner.For(facts.Dataset).Capacity.LargestJob;
            try
            {
                DagValidator.Validate(driverBatch, largest.Cpu, largest.MemoryBytes);
            }
            catch (BatchValidationException invalid)
            {
                refusal = invalid;
            }
        }

        var warnings = facts.ClientWarnings.ToList();
        return new RunPlan
        {
            Facts = facts,
            Run = run,
            Checks = checks,
            Refusal = refusal,
            ConfigToml = configToml,
            DriverBatch = driverBatch,
            Warnings = warnings,
            CommitMissingFromOrigin = facts.CommitPushed == false,
        };
    }

    /// <summary>
    /// Writes a plan this authority made: config, audit row and driver batch in one call to the run
    /// store (<see cref="IRunLog.AppendAsync"/>), which writes all of them or none.
    /// </summary>
    public Task<RunRecord> SubmitAsync(RunPlan plan, CancellationToken cancellationToken = default) => SubmitAsync(plan, key: null, cancellationToken);

    /// <summary>As above, with the client's idempotency key stored with the run (see <see cref="SubmitOnceAsync"/>).</summary>
    public async Task<RunRecord> SubmitAsync(RunPlan plan, SubmissionKey? key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Refusal is not null) throw plan.Refusal;
        // Started now, the executor is up by the time the run is written (BatchSubmitter says why).
        deployment.Executor.Wake();
        var submitted = await deployment.RunLog.AppendAsync(new RunSubmission(plan.Run, plan.ConfigToml, plan.DriverBatch) { Key = key }, cancellationToken)
            .ConfigureAwait(false);
        deployment.Executor.Wake();
        return submitted;
    }

    /// <summary>
    /// One run per idempotency key of <paramref name="caller"/>: a key the caller already logged a run
    /// under answers that run before anything is planned (a retry whose first answer was lost gets the
    /// run that was made, without cloning again, whatever the policy says by now), or IdempotencyKeyReused
    /// if the key came with another request; otherwise <paramref name="plan"/> is made and submitted with
    /// the key, and the run store settles a race between two requests with one key (one run, both answered it).
    /// </summary>
    public async Task<RunRecord> SubmitOnceAsync(SubmissionKey? key, Caller caller, Func<Task<RunPlan>> plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(plan);
        if (key is not null && await deployment.RunLog.FindByKeyAsync(caller.User, key.Value, cancellationToken).ConfigureAwait(false) is { } earlier)
            return key.Replay(earlier.Run, earlier.RequestHash);
        return await SubmitAsync(await plan().ConfigureAwait(false), key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Batch attributes every batch of a run carries, so Get-Batch -ArGuid finds them all; no batch may set them otherwise.</summary>
    public static Dictionary<string, string> RunAttributes(RunRecord run)
    {
        var attributes = new Dictionary<string, string>
        {
            ["ar_guid"] = run.ArGuid,
            ["author"] = run.User,
            ["dataset"] = run.Dataset,
            ["access_level"] = run.AccessLevel.ToConfigName(),
            ["description"] = run.Description,
        };
        if (run.Repository is not null) attributes["repository"] = run.Repository;
        if (run.Commit is not null) attributes["commit"] = run.Commit;
        return attributes;
    }

    private static string TryNormalizeOutputDir(string raw)
    {
        try
        {
            return OutputDirRule.Normalize(raw);
        }
        catch (PolicyViolationException)
        {
            return raw;
        }
    }
}
