using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Revokes bearer tokens for good: one by id (pipe Get-AnalysisRunnerToken), or every working token of a user.</summary>
[Cmdlet("Revoke", "AnalysisRunnerToken", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
[OutputType(typeof(TokenInfo))]
public sealed class RevokeAnalysisRunnerTokenCommand : TokenCmdlet
{
    private const string IdSet = "Id";
    private const string UserSet = "User";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = UserSet)]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = "";

    protected override void Process()
    {
        if (ParameterSetName == UserSet)
        {
            if (ShouldProcess(User, "Revoke every working token"))
                WriteObject(Run(Tokens.RevokeUserAsync(User)), enumerateCollection: true);
            return;
        }
        foreach (var id in Id)
        {
            try
            {
                if (ShouldProcess(id, "Revoke token")) WriteObject(Run(Tokens.RevokeAsync(id)));
            }
            catch (AnalysisRunnerException error)
            {
                WriteError(ToErrorRecord(error));
            }
        }
    }
}
