using System.Management.Automation;
using System.Net;
using System.Security;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Client;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Points the module at an AnalysisRunner server: the address in the user's client settings, the
/// token alone in a file only the user can read. AR_SERVER and AR_TOKEN override both. The token is
/// never written to the pipeline, the host or a log.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AnalysisRunnerServer", SupportsShouldProcess = true, DefaultParameterSetName = ServerSet)]
[OutputType(typeof(void))]
public sealed class SetAnalysisRunnerServerCommand : PSCmdlet
{
    private const string ServerSet = "Server";
    private const string ClearSet = "Clear";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ServerSet)]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    [Parameter(ParameterSetName = ServerSet)]
    [ValidateNotNull]
    public SecureString? Token { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter Clear { get; set; }

    protected override void ProcessRecord()
    {
        var settings = ClientSettings.ForCurrentUser();
        try
        {
            if (Clear)
            {
                if (ShouldProcess(settings.Folder, "Forget the stored server and token")) settings.Clear();
                return;
            }
            var server = ServerConnection.Validate(Uri!);
            if (!ShouldProcess(server.ToString(), $"Store as the AnalysisRunner server{(Token is null ? "" : " with a token")} in {settings.Folder}")) return;
            settings.Save(server, Token is null ? null : new NetworkCredential("", Token).Password);
        }
        catch (AnalysisRunnerException error)
        {
            ThrowTerminatingError(AnalysisRunnerCmdlet.ToErrorRecord(error));
        }
    }
}
