using System.Management.Automation;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Issues a bearer token for a user (an admin operation). The token is shown once; only its hash is kept.</summary>
[Cmdlet(VerbsCommon.New, "AnalysisRunnerToken", SupportsShouldProcess = true, DefaultParameterSetName = NoExpirySet)]
[OutputType(typeof(IssuedToken))]
public sealed class NewAnalysisRunnerTokenCommand : TokenCmdlet
{
    private const string NoExpirySet = "NoExpiry";
    private const string ExpiresInSet = "ExpiresIn";
    private const string ExpiresSet = "Expires";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ExpiresInSet)]
    public TimeSpan ExpiresIn { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ExpiresSet)]
    public DateTime Expires { get; set; }

    [Parameter]
    public SwitchParameter Admin { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Description { get; set; }

    protected override void Process()
    {
        DateTimeOffset? expires = ParameterSetName switch
        {
            ExpiresInSet => DateTimeOffset.UtcNow + ExpiresIn,
            ExpiresSet => new DateTimeOffset(Expires.ToUniversalTime(), TimeSpan.Zero),
            _ => null,
        };
        var what = $"a bearer token{(Admin ? " with the admin role" : "")}{(expires is { } at ? $" until {at:u}" : " that does not expire")}";
        if (!ShouldProcess(User, "Issue " + what)) return;
        var issued = Run(Tokens.IssueAsync(new TokenRequest
        {
            User = User, ExpiresAt = expires, Admin = Admin, Description = Description, CreatedBy = RequestedBy,
        }));
        WriteWarning($"The token of {issued.User} (id {issued.Id}) is shown only now; only its hash is stored. " +
                     "Hand it over privately; its holder stores it with Set-AnalysisRunnerServer -Token.");
        WriteObject(issued);
    }
}
