using System.Management.Automation;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>
/// Returns a run's merged config as an object to dot into: with no argument the one in
/// CPG_CONFIG_PATH (as inside a job), else by path, by ar_guid, or from a piped run or log entry.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CpgConfig", DefaultParameterSetName = PathSet)]
[OutputType(typeof(PSObject))]
public sealed class GetCpgConfigCommand : RunnerClientCmdlet
{
    private const string PathSet = "Path";
    private const string ArGuidSet = "ArGuid";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("ConfigPath")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ArGuidSet)]
    [ValidateNotNullOrEmpty]
    public string? ArGuid { get; set; }

    protected override void Process()
    {
        var path = ParameterSetName == ArGuidSet ? PathForArGuid(ArGuid!)
            : Path is null ? PathFromEnvironment()
            : Path.Contains("://", StringComparison.Ordinal) ? Path
            : ResolveUserPath(Path);
        var plain = TomlTableConversion.ToPlain(Await(Client.ReadConfigAtAsync(path, PipelineStopped)));
        var config = ToPSObject(plain);
        if (config is PSObject psObject)
        {
            psObject.TypeNames.Insert(0, "AnalysisRunner.CpgConfig");
            psObject.Properties.Add(new PSNoteProperty("PSConfigPath", path));
        }
        WriteObject(config);
    }

    private static string PathFromEnvironment() =>
        System.Environment.GetEnvironmentVariable(RunContext.ConfigPathVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : throw new AnalysisRunnerException("NoConfigPath", ErrorKind.ObjectNotFound, RunContext.ConfigPathVariable,
                "CPG_CONFIG_PATH is not set (it is inside a job); give -Path, -ArGuid, or pipe a run from Submit-Analysis or Get-AnalysisLog.");

    private string PathForArGuid(string arGuid)
    {
        var run = Await(Client.QueryAuditLogAsync(new LogQuery { ArGuid = arGuid, First = 1 }, null, PipelineStopped)).Runs.FirstOrDefault();
        return run?.ConfigPath ?? throw new AnalysisRunnerException("RunNotFound", ErrorKind.ObjectNotFound, arGuid,
            $"No run with ar_guid '{arGuid}' is in the audit log of {Client.Description}; Get-AnalysisLog lists them.");
    }

    private static object? ToPSObject(object? value) => value switch
    {
        IDictionary<string, object?> table => ToCustomObject(table),
        object?[] array => array.Select(ToPSObject).ToArray(),
        _ => value,
    };

    private static PSObject ToCustomObject(IDictionary<string, object?> table)
    {
        var result = new PSObject();
        foreach (var (key, value) in table)
            result.Properties.Add(new PSNoteProperty(key, ToPSObject(value)));
        return result;
    }
}
