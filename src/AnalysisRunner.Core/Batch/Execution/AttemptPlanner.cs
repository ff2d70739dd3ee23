using System.Runtime.ExceptionServices;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>What the scheduler decided for one attempt: the launch a runner gets, and what to publish once it succeeds.</summary>
internal sealed record AttemptPlan(AttemptLaunch Launch, IReadOnlyList<(string Source, string Destination)> Outputs, IReadOnlyList<string> Resources,
    ResourcePaths Paths)
{
    /// <summary>Something to copy or upload after the job succeeds, before it counts as Succeeded.</summary>
    public bool Publishes => Outputs.Count > 0 || Launch.Staging is not null;
}

/// <summary>
/// Turns a job's stored spec into an attempt: placeholders resolved to paths, its variables, its
/// work folder, the folders its resources need, its outputs. Specs are read from their rows when a
/// job starts (the scheduler keeps only the DAG in memory); a batch's own spec once per batch. Every
/// read is done before the synchronous part (resolving placeholders), so none happens in its callbacks.
/// </summary>
internal sealed class AttemptPlanner(RunnerHome home, IJobLedger ledger, Log.ILoggedRuns loggedRuns, Func<IReadOnlyDictionary<string, string>, JobStaging>? staging)
{
    public async Task<AttemptPlan> PlanAsync(JobNode node, int attempt)
    {
        var batch = node.Batch;
        var paths = await PathsAsync(batch);
        var spec = await ledger.LoadJobSpecAsync(batch.Id, node.JobId);
        var groupsOf = await GroupLookupAsync(batch.Id, spec);
        var resources = paths.OwnResources(spec);
        var reads = batch.Staging is null ? [] : spec.Commands.Concat(spec.Outputs.Select(output => output.Resource))
            .SelectMany(ResourcePlaceholder.Find)
            .Where(use => use.JobIndex != spec.Index)
            .Select(use => paths.Resolve(use, groupsOf))
            .ToList();
        var (variables, withheld) = JobEnvironment.For(home, batch.Id, node.JobId, attempt, batch.ConfigPath,
            batch.Staging?.Credentials, batch.Staging is not null, spec.Environment, paths.Scope?.Run?.ArGuid);
        var launch = new AttemptLaunch
        {
            Key = new AttemptKey(batch.Id, node.JobId, attempt),
            JobName = spec.Name,
            Command = string.Join('\n', spec.Commands.Select(c => paths.ResolveCommand(c, groupsOf))),
            Shell = spec.Shell,
            Environment = variables,
            Withheld = withheld,
            Work = spec.Checkout is not null || spec.StorageBytes is not null ? WorkFolder.Private : WorkFolder.Shared,
            Checkout = spec.Checkout,
            Timeout = spec.Timeout,
            Cpu = spec.Cpu,
            MemoryBytes = spec.MemoryBytes,
            StorageBytes = spec.StorageBytes,
            Image = spec.Image,
            Preemptible = spec.Preemptible,
            Dataset = batch.Dataset,
            ArGuid = batch.ArGuid,
            ResourceFolders = resources.Select(path => Path.GetDirectoryName(path)!).Distinct(StringComparer.Ordinal).ToList(),
            Staging = batch.Staging,
            Reads = reads,
            BatchResourceRoot = paths.BatchRoot,
            RunScope = paths.Scope?.Run is { } run ? (run.Dataset, run.AccessLevel) : null,
            BatchInputs = batch.InputFiles,
        };
        return new AttemptPlan(launch, Outputs(paths, spec, groupsOf), resources, paths);
    }

    /// <summary>
    /// A batch's resource paths (and config, staging), from its stored spec, read once per batch.
    /// ForBatch derives the batch's scope from the audit log and checks every location against it;
    /// the staging store and key are chosen by that verified run, never by the batch's own attributes.
    /// </summary>
    public async Task<ResourcePaths> PathsAsync(BatchGraph batch)
    {
        if (batch.Paths is null)
        {
            var batchSpec = await ledger.LoadBatchSpecAsync(batch.Id);
            var paths = ResourcePaths.ForBatch(home, batch.Id, batchSpec, loggedRuns);
            batch.ConfigPath = batchSpec.ConfigPath;
            // Who pays on a cluster is the verified run's dataset, never what the batch's attributes claim.
            batch.Dataset = paths.Scope?.Run?.Dataset;
            batch.ArGuid = paths.Scope?.Run?.ArGuid;
            batch.InputFiles = InputFiles(batchSpec.Inputs);
            batch.Staging = staging?.Invoke(paths.ScopeAttributes);
            batch.Paths = paths;
        }
        return batch.Paths;
    }

    /// <summary>Where the batch's inputs are on this machine; one that is not a path here is left out (the job reports it).</summary>
    private List<string> InputFiles(IReadOnlyList<InputSpec> inputs)
    {
        var files = new List<string>();
        foreach (var location in inputs.SelectMany(input => input.Path is { } path ? [path] : input.Group?.Values ?? Enumerable.Empty<string>()))
        {
            try { files.Add(ResourcePaths.ToLocalPath(home, location)); }
            catch (StorageException) { }
        }
        return files;
    }

    /// <summary>
    /// The resource groups of every job whose group members <paramref name="spec"/> uses, read before
    /// resolving. A read that failed throws where the lookup is asked for that job, as it did when the
    /// lookup read it there: an unresolvable placeholder before it still decides what the job fails with.
    /// </summary>
    private async Task<Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>> GroupLookupAsync(long batchId, JobSpec spec)
    {
        var groups = new Dictionary<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> { [spec.Index] = spec.ResourceGroups };
        var failed = new Dictionary<int, ExceptionDispatchInfo>();
        var others = spec.Commands.Concat(spec.Outputs.Select(output => output.Resource))
            .SelectMany(ResourcePlaceholder.Find)
            .Where(use => use is { JobIndex: not null, Member: not null } && use.JobIndex != spec.Index)
            .Select(use => use.JobIndex!.Value)
            .Distinct();
        foreach (var index in others)
        {
            try { groups[index] = (await ledger.LoadJobSpecAsync(batchId, index + 1)).ResourceGroups; }
            catch (Exception e) { failed[index] = ExceptionDispatchInfo.Capture(e); }
        }
        return index =>
        {
            if (failed.TryGetValue(index, out var error)) error.Throw();
            return groups[index];
        };
    }

    private List<(string Source, string Destination)> Outputs(ResourcePaths paths, JobSpec spec,
        Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> groupsOf) =>
        spec.Outputs.Select(output =>
        {
            var use = ResourcePlaceholder.Find(output.Resource).SingleOrDefault()
                ?? throw new BatchValidationException("InvalidOutputResource", ErrorKind.InvalidArgument, output.Resource,
                    $"Output '{output.Resource}' is not one resource placeholder.");
            return (paths.Resolve(use, groupsOf), paths.OutputPath(output.Destination));
        }).ToList();
}
