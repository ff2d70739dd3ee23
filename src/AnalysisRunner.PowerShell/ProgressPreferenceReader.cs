using System.Management.Automation;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// Whether a cmdlet's progress would be shown, read as PowerShell itself reads it: its -ProgressAction,
/// else $ProgressPreference converted to an ActionPreference. A preference set inside a function or
/// script block holds a string ('SilentlyContinue'), not the enum: taken as it is, that read as "shown",
/// and a wait nobody watched followed every round of the executor and read the database four times a second.
/// </summary>
internal static class ProgressPreferenceReader
{
    public static bool Shows(PSCmdlet cmdlet) =>
        Shows(cmdlet.MyInvocation.BoundParameters.TryGetValue("ProgressAction", out var action) ? action : null,
            cmdlet.GetVariableValue("ProgressPreference"));

    /// <summary>From the -ProgressAction given (or null) and the $ProgressPreference in scope (enum, string, or null).</summary>
    internal static bool Shows(object? progressAction, object? preference)
    {
        if (Read(progressAction) is { } fromParameter) return fromParameter != ActionPreference.SilentlyContinue;
        return Read(preference) is not ActionPreference.SilentlyContinue;
    }

    private static ActionPreference? Read(object? value) =>
        value is not null && LanguagePrimitives.TryConvertTo(value, System.Globalization.CultureInfo.InvariantCulture, out ActionPreference preference)
            ? preference : null;
}
