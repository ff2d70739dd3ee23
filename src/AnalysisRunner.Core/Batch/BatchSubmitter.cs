using AnalysisRunner.Core.Batch.Building;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Puts a built batch into its scope, validates it against the executor's limits, stores it and
/// wakes the executor. The scope is the submitting process's: the run its verified capability names
/// (inside a job), else its caller, and never anything the batch says about itself.
/// </summary>
public sealed class BatchSubmitter(Deployment deployment)
{
    /// <summary>Attributes that say whose batch it is; only the scope sets them.</summary>
    public static IReadOnlyList<string> ProtectedAttributes { get; } = ["ar_guid", "author", "dataset", "access_level", "repository", "commit"];

    /// <summary>This process's scope: its run if it holds a valid capability (AR_RUN_TOKEN), else the embedded caller.</summary>
    public async Task<BatchScope> CurrentScopeAsync(CancellationToken cancellationToken = default) =>
        await deployment.CurrentRunAsync(cancellationToken).ConfigureAwait(false) is { } run
            ? BatchScope.ForRun(run)
            : BatchScope.ForCaller(deployment.EmbeddedCaller().User);

    /// <summary>
    /// Against a server (AR_SERVER, or one Set-AnalysisRunnerServer stored) a batch is a run's: its
    /// driver submits it with the run's capability. Outside a run it would go to this machine's runner
    /// home instead, unseen by the server and past its gate, so it is refused with the way on: commit
    /// the script and Submit-Analysis it, or name the home with -RunnerHome to mean this machine.
    /// </summary>
    public static void RefuseOutsideRunWhenServerChosen(Client.RunnerTarget target, BatchScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (target is not Client.RunnerTarget.Remote remote || scope.Run is not null) return;
        throw new BatchValidationException("BatchNeedsRunOnServer", ErrorKind.InvalidOperation, remote.Connection.Server.ToString(),
            $"This session points at the server {remote.Connection.Server}, where batches are submitted by a run's driver: commit the " +
            "script that builds this batch and run it with Submit-Analysis. To run the batch on this machine's runner home " +
            "instead, pass -RunnerHome (or clear the server: Set-AnalysisRunnerServer -Clear, AR_SERVER).");
    }

    /// <summary>Everything Submit checks, with nothing written: a refused batch leaves no trace.</summary>
    public BatchSpec Prepare(BatchBuilder batch, BatchScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (batch.SubmittedBatchId is { } existing)
            throw new BatchValidationException("BatchAlreadySubmitted", ErrorKind.InvalidOperation, batch.Name,
                $"Batch '{batch.Name}' was already submitted as batch {existing}; start another with New-Batch.");
        // In a sandboxed job the executor checks it, with the run's scope, as below (nothing is stored yet).
        if (deployment.Channel is { } channel) return channel.Check(batch.Build());
        return Check(batch.Build(), scope);
    }

    /// <summary>The batch as its scope may have it, with every check made; what the executor runs for a batch sent over a run channel too.</summary>
    internal BatchSpec Check(BatchSpec built, BatchScope scope)
    {
        ArgumentNullException.ThrowIfNull(built);
        ArgumentNullException.ThrowIfNull(scope);
        BatchTexts.RefuseNul(built);
        // Only the authority gives a job a checkout (the run's driver): a job with one clones from the runner's mirror.
        if (built.Jobs.FirstOrDefault(job => job.Checkout is not null) is { } withCheckout)
            throw new BatchValidationException("JobCheckoutNotAllowed", ErrorKind.PermissionDenied, withCheckout.Name,
                $"Job '{withCheckout.Name}' asks for a repository checkout; only a run's driver has one, and only Submit-Analysis makes it.");
        var spec = Scoped(built, scope);
        var rule = new BatchScopeRule(deployment.Home, deployment.LoadRegistry());
        rule.Check(scope, spec.TmpRoot, BatchLocationUse.TmpRoot);
        foreach (var input in spec.Inputs)
            foreach (var path in input.Path is { } single ? new[] { single } : input.Group!.Values.ToArray())
                rule.Check(scope, path, BatchLocationUse.Input);
        foreach (var job in spec.Jobs)
        {
            ReservedEnvironment.Check(job.Environment, $"Job '{job.Name}' (job {job.Index + 1})");
            foreach (var output in job.Outputs) rule.Check(scope, output.Destination, BatchLocationUse.Output);
        }
        // The runner the run's dataset goes to says how big a job may be (this machine; a Slurm partition's largest node).
        var largest = deployment.Runner.For(scope.Run?.Dataset).Capacity.LargestJob;
        DagValidator.Validate(spec, largest.Cpu, largest.MemoryBytes);
        return spec;
    }

    public async Task<long> SubmitAsync(BatchBuilder batch, BatchSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var id = deployment.Channel is { } channel
            ? (await channel.SubmitAsync(spec, cancellationToken).ConfigureAwait(false)).Id
            : await StoreAsync(spec, cancellationToken).ConfigureAwait(false);
        batch.SubmittedBatchId = id;
        return id;
    }

    /// <summary>Stores a checked batch and wakes the executor.</summary>
    internal async Task<long> StoreAsync(BatchSpec spec, CancellationToken cancellationToken = default)
    {
        // An executor starting (a runtime start, a fifth of a second) while the rows are written
        // is ready when they are; the wake after the commit is what makes it read them.
        deployment.Executor.Wake();
        var id = await deployment.Batches.SubmitAsync(spec, cancellationToken).ConfigureAwait(false);
        deployment.Executor.Wake();
        return id;
    }

    /// <summary>The attributes a batch of <paramref name="scope"/> carries; refuses any it sets to something else.</summary>
    public static Dictionary<string, string> CheckAttributes(IEnumerable<KeyValuePair<string, string>> attributes, BatchScope scope)
    {
        var required = scope.Run is { } run
            ? RunAuthority.RunAttributes(run).Where(pair => ProtectedAttributes.Contains(pair.Key)).ToDictionary()
            : new Dictionary<string, string> { ["author"] = scope.Author };
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in attributes)
        {
            if (ProtectedAttributes.Contains(name, StringComparer.Ordinal) &&
                !(required.TryGetValue(name, out var expected) && (name == "author" ? Identity.Same(value, expected) : value == expected)))
                throw ProtectedAttribute(name, value, scope);
            result[name] = value;
        }
        foreach (var (name, value) in required) result[name] = value;
        return result;
    }

    private static BatchSpec Scoped(BatchSpec spec, BatchScope scope)
    {
        var run = scope.Run;
        if (spec.ArGuid is not null && spec.ArGuid != run?.ArGuid) throw ProtectedAttribute("ArGuid", spec.ArGuid, scope);
        if (spec.ConfigPath is not null && spec.ConfigPath != run?.ConfigPath) throw ProtectedAttribute("ConfigPath", spec.ConfigPath, scope);
        return spec with
        {
            ArGuid = run?.ArGuid,
            ConfigPath = run?.ConfigPath,
            Attributes = CheckAttributes(spec.Attributes, scope),
        };
    }

    private static BatchValidationException ProtectedAttribute(string name, string value, BatchScope scope) =>
        new("ProtectedBatchAttribute", ErrorKind.PermissionDenied, name,
            scope.Run is { } run
                ? $"The batch sets {name} = '{value}', but it belongs to run {run.ArGuid} ({run.Dataset}, {run.AccessLevel.ToConfigName()}), which decides {name}; leave it out."
                : $"The batch sets {name} = '{value}', but it is outside any run: only the runner sets {name}, from a run's capability (inside its jobs). Leave it out.");
}
