using System.Collections;

namespace AnalysisRunner.PowerShell;

/// <summary>-Environment and -Attributes arrive as @{ } hashtables; Core takes string dictionaries.</summary>
internal static class HashtableParameters
{
    /// <summary>Copies every entry as text (a null value becomes ""), over what <paramref name="into"/> already holds.</summary>
    public static void CopyInto(Hashtable? from, IDictionary<string, string> into)
    {
        if (from is null) return;
        foreach (DictionaryEntry entry in from)
            into[entry.Key.ToString()!] = entry.Value?.ToString() ?? "";
    }

    public static Dictionary<string, string> ToDictionary(Hashtable? from)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        CopyInto(from, result);
        return result;
    }
}
