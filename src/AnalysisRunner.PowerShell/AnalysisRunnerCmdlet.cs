using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// What every cmdlet shares: where the runner home is, the deployment behind it, and the one
/// mapping from Core's exceptions to ErrorRecords. Subclasses implement <see cref="Process"/>.
/// </summary>
public abstract class AnalysisRunnerCmdlet : PSCmdlet
{
    private Deployment? deployment;

    /// <summary>The runner home folder; defaults to $env:AR_HOME, then ~/.analysis-runner.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RunnerHome { get; set; }

    protected Deployment Deployment => deployment ??= OpenDeployment();

    protected abstract void Process();

    protected sealed override void ProcessRecord()
    {
        try
        {
            Process();
        }
        catch (AnalysisRunnerException error)
        {
            WriteError(ToErrorRecord(error));
        }
    }

    /// <summary>Ends the pipeline with Core's error as a proper ErrorRecord (for errors no later input could avoid).</summary>
    protected void ThrowTerminating(AnalysisRunnerException error) => ThrowTerminatingError(ToErrorRecord(error));

    public static ErrorRecord ToErrorRecord(AnalysisRunnerException error) =>
        new(error, error.ErrorId, ToCategory(error.Kind), error.Target)
        {
            ErrorDetails = new ErrorDetails(error.Message),
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
        ErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>Shown like Write-Host, but on the information stream so it can be silenced or captured (6>).</summary>
    protected void WriteHostLine(string message) =>
        WriteInformation(new HostInformationMessage { Message = message }, ["PSHOST"]);

    protected string CurrentDirectory => SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    protected string ResolveUserPath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    private Deployment OpenDeployment()
    {
        var home = Core.Hosting.RunnerHome.Resolve(RunnerHome);
        var opened = Deployment.Open(home);
        PwshShim.Ensure(home, CurrentPwshCommand());
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
