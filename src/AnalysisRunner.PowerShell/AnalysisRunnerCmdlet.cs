using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// What every cmdlet shares: where the runner home is, the deployment behind it, and the one
/// mapping from exceptions to ErrorRecords. Subclasses implement <see cref="Process"/>.
/// An error about one input is written and the pipeline goes on; an error about the deployment
/// itself (runner home, settings.toml, registry.toml: a DeploymentException) ends it, once.
/// </summary>
public abstract class AnalysisRunnerCmdlet : PSCmdlet
{
    private Deployment? deployment;
    private readonly CancellationTokenSource stopped = new();

    /// <summary>The runner home folder; defaults to $env:AR_HOME, then ~/.analysis-runner.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RunnerHome { get; set; }

    protected Deployment Deployment => deployment ??= OpenDeployment();

    /// <summary>Where the pages of what this command reads are served; null when no web address is configured.</summary>
    protected virtual Core.Web.WebAddress? Web => Deployment.Settings.Web;

    /// <summary>
    /// Every run, batch and job a cmdlet writes carries its page's Url (Format-List shows it), without
    /// each cmdlet having to remember: this hides Cmdlet.WriteObject for every subclass.
    /// </summary>
    protected new void WriteObject(object? sendToPipeline) => base.WriteObject(WithUrl(sendToPipeline));

    protected new void WriteObject(object? sendToPipeline, bool enumerateCollection)
    {
        // Enumerated as PowerShell would (LanguagePrimitives' rules: not strings, not dictionaries).
        if (enumerateCollection && LanguagePrimitives.GetEnumerable(sendToPipeline) is { } items)
            foreach (var item in items) base.WriteObject(WithUrl(item));
        else base.WriteObject(WithUrl(sendToPipeline), enumerateCollection);
    }

    /// <summary>Only a run, batch or job asks for the web address, so cmdlets writing anything else never open the deployment for it.</summary>
    private object? WithUrl(object? value) =>
        value is Core.Runs.RunRecord or BatchInfo or JobInfo && Web is { } web ? web.Linked(value) : value;

    protected abstract void Process();

    /// <summary>Cancelled when the pipeline is stopped (Ctrl-C), so a wait in Core ends at once.</summary>
    protected CancellationToken PipelineStopped => stopped.Token;

    /// <summary>Waits at the edge; Core's exceptions come out as themselves, for the base class to map.</summary>
    protected T Await<T>(Task<T> task)
    {
        WhileWaiting(task);
        return task.GetAwaiter().GetResult();
    }

    protected void Await(Task task)
    {
        WhileWaiting(task);
        task.GetAwaiter().GetResult();
    }

    /// <summary>What a cmdlet does on the pipeline's thread until <paramref name="task"/> ends (nothing: it just waits).</summary>
    protected virtual void WhileWaiting(Task task)
    {
    }

    protected sealed override void ProcessRecord() => Report(Process);

    /// <summary>
    /// For a cmdlet given several inputs in one record (-Id 1, 2, 3): an input that fails is reported
    /// and the next one is processed; a deployment error still ends the pipeline.
    /// </summary>
    protected void ForEachInput<T>(IEnumerable<T> inputs, Action<T> process)
    {
        foreach (var input in inputs) Report(() => process(input));
    }

    private void Report(Action work)
    {
        try
        {
            work();
        }
        catch (OperationCanceledException) when (stopped.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        // PowerShell's own exceptions (a stopped pipeline, a terminating error already made) go on up.
        catch (Exception error) when (error is not RuntimeException)
        {
            if (Stopping) throw new PipelineStoppedException();
            var record = ToErrorRecord(error);
            if (Unwrap(error) is DeploymentException) ThrowTerminatingError(record);
            WriteError(record);
        }
    }

    protected override void StopProcessing() => stopped.Cancel();

    /// <summary>
    /// After a wait: each batch that failed or was cancelled is a non-terminating error naming its
    /// failed jobs and why (the batch as TargetObject), so $? and -ErrorAction Stop see it.
    /// </summary>
    protected void WriteErrorsForUnsuccessful(IEnumerable<BatchInfo> batches)
    {
        foreach (var batch in batches)
            if (Await(BatchOutcome.FailureAsync(Deployment.Batches, batch, PipelineStopped)) is { } failure)
                WriteError(ToErrorRecord(failure));
    }

    /// <summary>Ends the pipeline with Core's error as a proper ErrorRecord (for errors no later input could avoid).</summary>
    protected void ThrowTerminating(AnalysisRunnerException error) => ThrowTerminatingError(ToErrorRecord(error));

    public static ErrorRecord ToErrorRecord(AnalysisRunnerException error) =>
        new(error, error.ErrorId, ToCategory(error.Kind), error.Target)
        {
            ErrorDetails = new ErrorDetails(error.Message),
        };

    /// <summary>
    /// Any exception as an ErrorRecord: Core's own by their ErrorId; anything else (a bug, or the
    /// machine: disk, permissions) by its type's name, so even those have a stable id and category.
    /// </summary>
    public static ErrorRecord ToErrorRecord(Exception error) => Unwrap(error) switch
    {
        AnalysisRunnerException known => ToErrorRecord(known),
        var other => new ErrorRecord(other, other.GetType().Name, ToCategory(other), null),
    };

    private static Exception Unwrap(Exception error) =>
        error is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : error;

    private static ErrorCategory ToCategory(Exception error) => error switch
    {
        UnauthorizedAccessException => ErrorCategory.PermissionDenied,
        FileNotFoundException or DirectoryNotFoundException => ErrorCategory.ObjectNotFound,
        IOException => ErrorCategory.ResourceUnavailable,
        ArgumentException => ErrorCategory.InvalidArgument,
        FormatException or InvalidDataException => ErrorCategory.InvalidData,
        InvalidOperationException => ErrorCategory.InvalidOperation,
        TimeoutException => ErrorCategory.OperationTimeout,
        OperationCanceledException => ErrorCategory.OperationStopped,
        _ => ErrorCategory.NotSpecified,
    };

    public static ErrorCategory ToCategory(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.LimitsExceeded => ErrorCategory.LimitsExceeded,
        ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        ErrorKind.InvalidResult => ErrorCategory.InvalidResult,
        ErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>Shown like Write-Host, but on the information stream so it can be silenced or captured (6>).</summary>
    protected void WriteHostLine(string message) =>
        WriteInformation(new HostInformationMessage { Message = message }, ["PSHOST"]);

    /// <summary>
    /// -Confirm:$false was given. ShouldContinue (the extra question for what is dangerous) ignores
    /// -Confirm, but the PowerShell convention is that -Confirm:$false means "do not ask".
    /// </summary>
    protected bool ConfirmTurnedOff =>
        MyInvocation.BoundParameters.TryGetValue("Confirm", out var confirm) && confirm is SwitchParameter { IsPresent: false };

    protected string CurrentDirectory => SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    protected string ResolveUserPath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    private Deployment OpenDeployment()
    {
        var home = Core.Hosting.RunnerHome.Resolve(RunnerHome);
        var opened = Deployment.Open(home);
        // A sandboxed job's home is read-only and not its own; the shim it runs through is already there.
        if (!opened.InSandboxedJob) PwshShim.Ensure(home, CurrentPwshCommand());
        return opened;
    }

    /// <summary>How to start the pwsh this module runs in: the dotnet tool runs as `dotnet pwsh.dll`.</summary>
    private static IReadOnlyList<string> CurrentPwshCommand()
    {
        var process = Environment.ProcessPath ?? "pwsh";
        var psHome = Path.GetDirectoryName(typeof(PSObject).Assembly.Location) ?? "";
        var dll = Path.Combine(psHome, "pwsh.dll");
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && File.Exists(dll) ? [process, dll] : [process];
    }
}
