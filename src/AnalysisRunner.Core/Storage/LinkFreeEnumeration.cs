namespace AnalysisRunner.Core.Storage;

/// <summary>
/// Enumerations that never go through a link: .NET's recursive enumeration goes into linked folders
/// (a link in a bucket would list what lies outside it, and /usr/bin/X11 -> . loops until ELOOP), and
/// a link's own entry is skipped, not followed.
/// </summary>
internal static class LinkFreeEnumeration
{
    /// <summary>Every entry below a folder that is not a link, nor below one.</summary>
    public static readonly EnumerationOptions Recursive = new()
    {
        RecurseSubdirectories = true,
        AttributesToSkip = FileAttributes.ReparsePoint,
        MatchType = MatchType.Win32,
    };

    /// <summary>The entries of one folder that are not links.</summary>
    public static readonly EnumerationOptions OneFolder = new()
    {
        AttributesToSkip = FileAttributes.ReparsePoint,
        MatchType = MatchType.Win32,
    };
}
