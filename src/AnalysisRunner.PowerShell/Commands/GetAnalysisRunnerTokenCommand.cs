using System.Management.Automation;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Lists bearer tokens (never their secrets): working ones by default, all with -IncludeInactive.</summary>
[Cmdlet(VerbsCommon.Get, "AnalysisRunnerToken")]
[OutputType(typeof(TokenInfo))]
public sealed class GetAnalysisRunnerTokenCommand : TokenCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    [Parameter]
    public SwitchParameter IncludeInactive { get; set; }

    protected override void Process()
    {
        var tokens = Run(Tokens.ListAsync(new TokenQuery { User = User, IncludeInactive = IncludeInactive || Id is not null }));
        foreach (var token in tokens)
            if (Id is null || Id.Contains(token.Id, StringComparer.Ordinal))
                WriteObject(token);
    }
}
