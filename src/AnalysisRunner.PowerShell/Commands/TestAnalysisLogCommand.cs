using System.Management.Automation;
using AnalysisRunner.Core.Log;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Verifies the audit log's hash chain and names the first entry that was altered, removed or
/// inserted: the runner home's, or a server's (-Server, AR_SERVER) for an admin's token.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "AnalysisLog")]
[OutputType(typeof(AuditLogVerification))]
public sealed class TestAnalysisLogCommand : RunnerClientCmdlet
{
    protected override void Process() => WriteObject(Await(Client.VerifyAuditLogAsync(PipelineStopped)));
}
