using System.Management.Automation;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// What the token cmdlets share: where the tokens are, chosen once. With -Server, AR_SERVER or a
/// server stored by Set-AnalysisRunnerServer, a server's admin API (the caller's token needs the
/// admin role); with -RunnerHome, or no server at all, the runner home's own store, which its
/// owner writes directly.
/// </summary>
public abstract class TokenCmdlet : AnalysisRunnerCmdlet
{
    private ITokenAdministration? _tokens;

    /// <summary>A server address; the token sent is AR_TOKEN or the one Set-AnalysisRunnerServer stored for that server.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    protected ITokenAdministration Tokens => _tokens ??= Open();

    /// <summary>Who asked, for the record of an embedded issue (a server records its authenticated caller itself).</summary>
    protected string? RequestedBy => _tokens is TokenAdminClient ? null : "runner home owner (" + Environment.UserName + ")";

    /// <summary>Waits at the edge; Core's exceptions come out as themselves, for the base class to map.</summary>
    protected static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    protected override void EndProcessing()
    {
        (_tokens as IDisposable)?.Dispose();
        base.EndProcessing();
    }

    private ITokenAdministration Open() =>
        RunnerTarget.Choose(Server, RunnerHome, ClientSettings.ForCurrentUser()) switch
        {
            RunnerTarget.Remote remote => new TokenAdminClient(remote.Connection),
            _ => Deployment.Tokens,
        };
}
