using System.Collections;
using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Submits the committed script at HEAD of this checkout to run against a dataset, after the policy
/// checks; or, given a run from Get-AnalysisLog, runs it again exactly.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "Analysis", SupportsShouldProcess = true, DefaultParameterSetName = ScriptSet)]
[OutputType(typeof(RunRecord))]
[OutputType(typeof(RunPlan))]
public sealed class SubmitAnalysisCommand : RunnerClientCmdlet
{
    private const string ScriptSet = "Script";
    private const string RerunSet = "Rerun";

    [Parameter(Mandatory = true, ParameterSetName = ScriptSet)]
    [ArgumentCompleter(typeof(DatasetCompleter))]
    [ValidateNotNullOrEmpty]
    public string Dataset { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ScriptSet)]
    [ValidateSet("test", "standard", "full")]
    public string AccessLevel { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string Description { get; set; } = "";

    /// <summary>Output prefix inside the dataset's bucket for this access level, e.g. onboarding/me/hello-world.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string OutputDir { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string Script { get; set; } = "";

    /// <summary>Everything after the script, passed to it verbatim and in order.</summary>
    [Parameter(Position = 1, ValueFromRemainingArguments = true, ParameterSetName = ScriptSet)]
    [AllowEmptyString]
    public string[] ScriptArguments { get; set; } = [];

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Commit { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Cwd { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    public SwitchParameter SkipRepoCheckout { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Image { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Cpu { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Memory { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string? Storage { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    public SwitchParameter Preemptible { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    public Hashtable? Environment { get; set; }

    /// <summary>User config files (TOML), merged left to right over the runner's baseline.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [ValidateNotNullOrEmpty]
    public string[] Config { get; set; } = [];

    /// <summary>A run from Get-AnalysisLog (or an earlier Submit-Analysis) to run again as a new run: only its ArGuid is used; the rest is read from the audit log.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = RerunSet)]
    public RunRecord? InputObject { get; set; }

    /// <summary>Wait for the driver batch to finish before returning.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Skip the confirmation for access level full and for a commit origin may not have (both default to No, and are errors where nobody can answer).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void Process()
    {
        // The cmdlet is the client: it captures facts; the authority (this process over the runner
        // home, or the server) decides, with the caller its host vouches for, and reads nothing of this machine.
        var plan = InputObject is null
            ? Await(Client.PlanRunAsync(FactsCapture.Capture(RequestFromParameters()), PipelineStopped))
            : Await(Client.PlanRerunAsync(InputObject.ArGuid, PipelineStopped));
        foreach (var warning in plan.Warnings) WriteWarning(warning);

        var target = Describe(plan.Run);
        if (!ShouldProcess(target, "Submit analysis"))
        {
            WriteObject(plan);
            return;
        }
        if (plan.Refusal is not null) throw plan.Refusal;
        if (!Force && plan.CommitMissingFromOrigin && !Confirm(target,
                $"Commit {plan.Run.Commit} is not on any branch of origin as this checkout last fetched it, so the runner may not find it. Submit anyway?",
                "Commit not pushed"))
            return;
        // Access level full is ConfirmImpact High in effect: it always asks unless -Force or -Confirm:$false.
        if (!Force && !ConfirmTurnedOff && plan.Run.AccessLevel == Core.AccessLevel.Full && !Confirm(target,
                $"Access level 'full' can read, write and delete everything in the main buckets of '{plan.Run.Dataset}'. Submit anyway?",
                "Full access"))
            return;

        var run = Await(Client.SubmitRunAsync(plan, PipelineStopped));
        // The handles a user needs to find the run again, before anything can scroll them away.
        // Batch 0: the server logged the run but could not create its driver batch yet; it retries by itself.
        var driver = run.DriverBatchId == 0 ? "its driver batch is still to be created" : $"driver batch {run.DriverBatchId}";
        WriteHostLine($"Submitted run {run.ArGuid} ({driver}): {target}");
        if (Web is { } web && run.DriverBatchId != 0) WriteHostLine($"Request submitted successfully: {web.Batch(run.DriverBatchId)}");
        if (!Wait)
        {
            WriteObject(run);
            return;
        }
        if (run.DriverBatchId == 0)
        {
            // Nothing to wait on yet; the run is logged, so it is the answer, and the user is told how to wait later.
            WriteWarning($"Run {run.ArGuid} is logged, but the server has not created its driver batch yet (it retries by itself), so -Wait cannot wait now. Wait later with: Get-AnalysisLog -ArGuid {run.ArGuid} | Wait-Batch");
            WriteObject(run);
            return;
        }
        IReadOnlyList<BatchInfo> batches;
        try
        {
            batches = new BatchWaiter(this, Client, PipelineStopped).WaitForRun(run, timeout: null);
        }
        catch (PipelineStoppedException)
        {
            // Ctrl-C stops the wait, not the run; the pipeline is stopping, so only the host can still be told.
            Host.UI.WriteLine($"Stopped waiting; run {run.ArGuid} goes on. Follow it with: Get-Batch -ArGuid {run.ArGuid} | Wait-Batch (Stop-Batch -ArGuid {run.ArGuid} stops it).");
            throw;
        }
        WriteObject(run);
        WriteFailuresOf(batches);
    }

    /// <summary>What is submitted, for the confirmation and the submit line: repository@commit and script, or the command run without a checkout.</summary>
    private static string Describe(RunRecord run)
    {
        var command = ShellQuoting.Join(new[] { run.Script }.Concat(run.ScriptArguments));
        var source = run.SkipRepoCheckout || run.Repository is null
            ? $"{command} ({(run.Repository is null ? "no repository" : "no checkout")})"
            : $"{run.Repository}@{run.Commit} {(run.Cwd is null or "." ? "" : run.Cwd + "/")}{run.Script}";
        return $"{source} for dataset {run.Dataset} at {run.AccessLevel.ToConfigName()}";
    }

    /// <summary>
    /// Asks with No as the default answer (a stray Enter never submits). A host that cannot ask (pwsh
    /// -NonInteractive, a hosted runspace) gets a ConfirmationRequired error saying to pass -Force,
    /// instead of PowerShell's generic prompt failure.
    /// </summary>
    private bool Confirm(string target, string query, string caption)
    {
        bool yesToAll = false, noToAll = false;
        try
        {
            return ShouldContinue(query, caption, hasSecurityImpact: true, ref yesToAll, ref noToAll);
        }
        catch (Exception e) when (e is PSInvalidOperationException or System.Management.Automation.Host.HostException or NotImplementedException)
        {
            throw new ConfirmationRequiredException(target,
                $"{caption}: {query} This session cannot ask, so nothing was submitted; pass -Force to submit without the question.");
        }
    }

    private RunRequest RequestFromParameters() => new()
    {
        Dataset = Dataset,
        AccessLevel = AccessLevelNames.Parse(AccessLevel),
        Description = Description,
        OutputDir = OutputDir,
        Script = Script,
        ScriptArguments = ScriptArguments,
        WorkingDirectory = CurrentDirectory,
        Repository = Repository,
        Commit = Commit,
        Cwd = Cwd,
        SkipRepoCheckout = SkipRepoCheckout,
        Image = Image,
        Cpu = Cpu,
        Memory = Memory,
        Storage = Storage,
        Preemptible = Preemptible,
        Environment = HashtableParameters.ToDictionary(Environment),
        ConfigFiles = Config.Select(ResolveUserPath).ToList(),
    };
}
