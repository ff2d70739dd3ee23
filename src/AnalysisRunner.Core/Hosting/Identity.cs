namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// Who is calling. The embedded default trusts the machine's login, not anything the caller's folder
/// says: the operating-system account, mapped to an email by the runner settings
/// (settings.toml [identity.users]), else the bare account name. So a re-run passes or fails the same
/// way wherever it is typed, and no `git config user.email` can claim another member. A server
/// deployment derives the caller from its token instead and passes it to the authority the same way.
/// </summary>
public static class Identity
{
    /// <summary>Emails compare without case everywhere (membership, storage access, identity), as mail systems treat them.</summary>
    public static StringComparer Comparer { get; } = StringComparer.OrdinalIgnoreCase;

    public static bool Same(string? a, string? b) => Comparer.Equals(a ?? "", b ?? "");

    /// <summary>The caller on the embedded default: this process's OS account, as the settings map it.</summary>
    public static string OfOsAccount(RunnerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var account = Environment.UserName;
        return settings.IdentityUsers.TryGetValue(account, out var email) ? email : account;
    }
}
