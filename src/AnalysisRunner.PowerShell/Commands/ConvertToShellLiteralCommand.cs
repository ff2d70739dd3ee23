using System.Management.Automation;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Quotes text as one bash word, so user input in a job command is always data, never code.</summary>
[Cmdlet(VerbsData.ConvertTo, "ShellLiteral")]
[OutputType(typeof(string))]
public sealed class ConvertToShellLiteralCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Value { get; set; } = "";

    protected override void ProcessRecord() => WriteObject(ShellQuoting.Quote(Value));
}
