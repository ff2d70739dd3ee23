using System.Management.Automation;
using AnalysisRunner.Core.Log;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Verifies the audit log's hash chain and names the first entry that was altered, removed or inserted.</summary>
[Cmdlet(VerbsDiagnostic.Test, "AnalysisLog")]
[OutputType(typeof(AuditLogVerification))]
public sealed class TestAnalysisLogCommand : AnalysisRunnerCmdlet
{
    protected override void Process() => WriteObject(AuditLogCheck.Verify(Deployment));
}
