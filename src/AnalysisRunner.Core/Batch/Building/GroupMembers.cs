namespace AnalysisRunner.Core.Batch.Building;

/// <summary>Member name → value, from whatever dictionary the caller has (PowerShell passes hashtables).</summary>
internal static class GroupMembers
{
    public static IReadOnlyDictionary<string, string> FromDictionary(System.Collections.IDictionary members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in members)
            result[entry.Key.ToString()!] = entry.Value?.ToString() ?? "";
        return result;
    }
}
