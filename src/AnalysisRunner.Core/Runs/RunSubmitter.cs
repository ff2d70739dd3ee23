using System.Globalization;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Git;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// The one orchestration: capture → policy → config → (one transaction: config + audit row +
/// driver batch) → wake the executor. Plan does everything that reads; Submit everything that writes.
/// </summary>
public sealed class RunSubmitter(Deployment deployment)
{
    public const string DriverJobName = "driver";

    public RunPlan Plan(RunRequest request)
    {
        var source = CaptureSource(request);
        var registry = deployment.LoadRegistry();
        var user = request.User ?? Identity.Current(request.WorkingDirectory);
        var arGuid = Guid.NewGuid().ToString();

        var policyRequest = new PolicyRequest
        {
            Dataset = request.Dataset,
            AccessLevel = request.AccessLevel,
            User = user,
            Repository = source?.Repository,
            Commit = source?.Commit,
            CloneUrl = source?.CloneUrl,
            Image = request.Image,
            OutputDir = request.OutputDir,
            SkipRepoCheckout = request.SkipRepoCheckout,
        };
        var gate = new PolicyGate(registry, deployment.Git);
        var checks = gate.Evaluate(policyRequest);
        AnalysisRunnerException? refusal = null;
        try
        {
            gate.Enforce(policyRequest);
        }
        catch (PolicyViolationException violation)
        {
            refusal = violation;
        }

        // The output prefix is needed for the config even on a refused plan (-WhatIf shows it), so an
        // invalid one falls back to the raw text; the refusal above already says why it is wrong.
        var outputPrefix = TryNormalizeOutputDir(request.OutputDir);
        var buckets = deployment.BucketsFor(request.Dataset, request.AccessLevel);
        var image = request.Image ?? registry.DefaultImage;
        var snapshots = request.ConfigSnapshots ?? request.ConfigFiles.Select(ReadSnapshot).ToList();
        var templates = deployment.TemplatePaths.Select(path => new ConfigSnapshot(path, File.ReadAllText(path)));

        var config = RunConfigBuilder.Build(new RunConfigInput
        {
            ArGuid = arGuid,
            Dataset = request.Dataset,
            AccessLevel = request.AccessLevel,
            OutputPrefix = outputPrefix,
            DriverImage = image,
            User = user,
            Repository = source?.Repository,
            Commit = source?.Commit,
            Description = request.Description,
            Buckets = buckets,
        }, templates, snapshots);
        var configToml = TomlFiles.Serialize(config);

        var cpu = request.Cpu is null ? (double?)null : ResourceQuantity.ParseCpu(request.Cpu);
        var memoryBytes = request.Memory is null ? (long?)null : ResourceQuantity.ParseMemory(request.Memory, cpu ?? 1);
        var storageBytes = request.Storage is null ? (long?)null : ResourceQuantity.ParseStorage(request.Storage);

        var run = new RunRecord
        {
            ArGuid = arGuid,
            Timestamp = DateTimeOffset.UtcNow,
            User = user,
            Dataset = request.Dataset,
            AccessLevel = request.AccessLevel,
            Repository = source?.Repository,
            Commit = source?.Commit,
            Cwd = source?.Cwd,
            Script = request.Script,
            ScriptArguments = request.ScriptArguments.ToList(),
            Description = request.Description,
            OutputPrefix = outputPrefix,
            OutputDir = buckets.Default.TrimEnd('/') + "/" + outputPrefix,
            ConfigPath = deployment.Configs.PathFor(arGuid),
            Image = image,
            Cpu = cpu,
            Memory = request.Memory,
            Storage = request.Storage,
            Preemptible = request.Preemptible,
            Environment = new Dictionary<string, string>(request.Environment),
            ConfigFiles = request.ConfigFiles.ToList(),
            ConfigSnapshots = snapshots.ToList(),
            SkipRepoCheckout = request.SkipRepoCheckout,
            RerunOf = request.RerunOf,
        };

        var driver = new JobSpec
        {
            Index = 0,
            Name = DriverJobName,
            Commands = [source is null
                ? DriverCommand.ForCommand(request.Script, request.ScriptArguments)
                : DriverCommand.ForScript(request.Script, request.ScriptArguments, source.LocalScriptPath)],
            Image = image,
            Cpu = cpu ?? 1,
            MemoryBytes = memoryBytes ?? ResourceQuantity.ParseMemory("1Gi"),
            StorageBytes = storageBytes,
            Preemptible = request.Preemptible,
            Environment = new Dictionary<string, string>(request.Environment),
            Checkout = source is null ? null : new CheckoutSpec(source.CloneUrl, source.Commit, source.Cwd),
        };
        var driverBatch = new BatchSpec
        {
            Name = $"{request.Dataset}/{request.AccessLevel.ToConfigName()}: {request.Description}",
            ArGuid = arGuid,
            ConfigPath = run.ConfigPath,
            TmpRoot = buckets.Tmp.TrimEnd('/') + "/batch",
            Attributes = RunAttributes(run),
            Jobs = [driver],
        };
        if (refusal is null)
        {
            var largest = deployment.Runner.Capacity.LargestJob;
            try
            {
                DagValidator.Validate(driverBatch, largest.Cpu, largest.MemoryBytes);
            }
            catch (BatchValidationException invalid)
            {
                refusal = invalid;
            }
        }

        return new RunPlan
        {
            Run = run,
            Checks = checks,
            Refusal = refusal,
            ConfigToml = configToml,
            DriverBatch = driverBatch,
            Warnings = source?.Warnings ?? [],
            CommitMissingFromOrigin = source is { OriginHasCommit: false },
        };
    }

    /// <summary>
    /// Writes the run: config under a temporary name, then one transaction for the driver batch and
    /// the audit row, renaming the config just before the commit (and removing it if the commit fails).
    /// </summary>
    public RunRecord Submit(RunPlan plan)
    {
        if (plan.Refusal is not null) throw plan.Refusal;
        // Started now, the executor is up by the time the run is written (BatchSubmitter says why).
        deployment.Executor.Wake();
        using var staged = deployment.Configs.Stage(plan.Run.ArGuid, plan.ConfigToml);
        RunRecord submitted;
        try
        {
            submitted = deployment.Database.InTransaction((connection, transaction) =>
            {
                var batchId = deployment.Batches.Submit(plan.DriverBatch, connection, transaction);
                var run = plan.Run with { DriverBatchId = batchId };
                deployment.AuditLog.Append(run, connection, transaction);
                staged.Commit();
                return run;
            });
        }
        catch
        {
            if (!RunIsLogged(plan.Run.ArGuid))
                deployment.Configs.Withdraw(plan.Run.ArGuid);
            throw;
        }
        deployment.Executor.Wake();
        return submitted;
    }

    /// <summary>Batch attributes every batch of a run carries, so Get-Batch -ArGuid finds them all.</summary>
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

    private bool RunIsLogged(string arGuid) =>
        deployment.AuditLog.Query(new Log.LogQuery { ArGuid = arGuid, First = 1 }).Any();

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

    private static ConfigSnapshot ReadSnapshot(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ConfigException("ConfigNotFound", ErrorKind.ObjectNotFound, path,
                $"Config file '{path}' does not exist; -Config takes paths of TOML files, merged left to right.");
        // Not parsed here: RunConfigBuilder parses every file once and names the one that is not TOML.
        return new ConfigSnapshot(full, File.ReadAllText(full));
    }

    private CapturedSource? CaptureSource(RunRequest request)
    {
        if (request.SkipRepoCheckout)
        {
            if (request.Repository is not null || request.Commit is not null)
                throw new SourceException("ConflictingSourceOptions", ErrorKind.InvalidArgument, request.Repository ?? request.Commit,
                    "-SkipRepoCheckout runs a command with no repository; leave out -Repository and -Commit, or drop -SkipRepoCheckout.");
            return null;
        }

        var cwd = request.Cwd is null ? null : NormalizeCwd(request.Cwd);
        if (request.Repository is not null)
        {
            if (string.IsNullOrWhiteSpace(request.Commit))
                throw new SourceException("CommitRequired", ErrorKind.InvalidArgument, request.Repository,
                    $"-Repository '{request.Repository}' needs -Commit too: the runner only runs an exact commit.");
            var repository = RepositoryName.Normalize(request.Repository);
            var cloneUrl = RepositoryName.ToCloneUrl(request.Repository);
            var commit = deployment.Git.ResolveCommit(cloneUrl, request.Commit);
            return new CapturedSource(repository, cloneUrl, commit, cwd ?? ".", null, true, []);
        }

        var snapshot = SourceCapture.Capture(request.WorkingDirectory);
        var resolvedCommit = request.Commit is null ? snapshot.Commit : SourceCapture.ResolveCommit(snapshot.GitRoot, request.Commit);
        var runCwd = cwd ?? snapshot.Cwd;
        var localScript = Path.GetFullPath(Path.Combine(snapshot.GitRoot, runCwd, request.Script));
        if (resolvedCommit == snapshot.Commit)
            DriverCommand.CheckScriptExists(localScript, request.Script);
        var warnings = new List<string>();
        if (snapshot.IsDirty && resolvedCommit == snapshot.Commit)
            warnings.Add($"The working tree at {snapshot.GitRoot} has uncommitted changes; the driver runs commit {resolvedCommit[..12]} without them.");
        return new CapturedSource(snapshot.Repository, snapshot.OriginUrl, resolvedCommit, runCwd,
            resolvedCommit == snapshot.Commit ? localScript : null,
            resolvedCommit != snapshot.Commit || snapshot.OriginHasCommit, warnings);
    }

    private static string NormalizeCwd(string cwd)
    {
        var trimmed = cwd.Replace('\\', '/').Trim().TrimEnd('/');
        if (trimmed.Length == 0) return ".";
        if (trimmed.StartsWith('/') || trimmed.Split('/').Contains(".."))
            throw new SourceException("InvalidCwd", ErrorKind.InvalidArgument, cwd,
                $"-Cwd '{cwd}' must be a folder inside the repository, relative to its root, without '..' (for example 'examples/bash').");
        return trimmed;
    }

    private sealed record CapturedSource(string Repository, string CloneUrl, string Commit, string Cwd,
        string? LocalScriptPath, bool OriginHasCommit, IReadOnlyList<string> Warnings);
}
