using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// cpg-utils' update_dict: tables merge key by key, everything else (scalars, arrays,
/// arrays of tables) is replaced by the overlay's value. Merge works on copies only.
/// </summary>
internal static class TomlMerge
{
    public static TomlTable Merge(TomlTable baseTable, TomlTable overlay)
    {
        ArgumentNullException.ThrowIfNull(baseTable);
        ArgumentNullException.ThrowIfNull(overlay);
        var result = DeepCopy(baseTable);
        MergeInto(result, overlay);
        return result;
    }

    /// <summary>
    /// Merges <paramref name="overlay"/> into <paramref name="target"/> in place, taking copies of the
    /// overlay's values (the overlay is left as it was). For a caller that owns the target and merges
    /// many overlays into it: copying the growing result at every step would make that quadratic.
    /// </summary>
    internal static void MergeInto(TomlTable target, TomlTable overlay)
    {
        foreach (var (key, value) in overlay)
        {
            if (value is TomlTable overlayTable && target.TryGetValue(key, out var existing) && existing is TomlTable targetTable)
                MergeInto(targetTable, overlayTable);
            else
                target[key] = DeepCopyValue(value);
        }
    }

    public static TomlTable DeepCopy(TomlTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var copy = new TomlTable();
        foreach (var (key, value) in table)
            copy[key] = DeepCopyValue(value);
        return copy;
    }

    private static object DeepCopyValue(object value) => value switch
    {
        TomlTable table => DeepCopy(table),
        TomlTableArray tables => CopyTableArray(tables),
        TomlArray array => CopyArray(array),
        _ => value, // strings, numbers, booleans and TomlDateTime are immutable
    };

    private static TomlArray CopyArray(TomlArray array)
    {
        var copy = new TomlArray(array.Count);
        foreach (var item in array) copy.Add(item is null ? null : DeepCopyValue(item));
        return copy;
    }

    private static TomlTableArray CopyTableArray(TomlTableArray tables)
    {
        var copy = new TomlTableArray();
        foreach (var table in tables) copy.Add(DeepCopy(table));
        return copy;
    }
}
