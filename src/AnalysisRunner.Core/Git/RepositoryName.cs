using System.Text.RegularExpressions;

namespace AnalysisRunner.Core.Git;

/// <summary>
/// One spelling per repository, so the allowlist compares like with like: every GitHub URL
/// form becomes org/name; anything else (another host, a local path) stays as given.
/// </summary>
public static partial class RepositoryName
{
    public static string Normalize(string remoteUrl)
    {
        ArgumentNullException.ThrowIfNull(remoteUrl);
        var url = remoteUrl.Trim();
        var match = GitHubUrl().Match(url);
        if (match.Success) return $"{match.Groups["org"].Value}/{match.Groups["name"].Value}";
        url = StripPassword(url);
        return url.Length > 1 ? url.TrimEnd('/') : url;
    }

    public static string ToCloneUrl(string repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var match = OrgAndName().Match(repository);
        if (match.Success && match.Groups["org"].Value is not ("." or "..") && match.Groups["name"].Value is not ("." or ".."))
            return $"https://github.com/{repository}.git";
        return repository;
    }

    /// <summary>A token in https://user:token@host/… must not travel into configs and the audit log.</summary>
    private static string StripPassword(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") ||
            !uri.UserInfo.Contains(':'))
            return url;
        var at = url.IndexOf('@', url.IndexOf("://", StringComparison.Ordinal) + 3);
        return at < 0 ? url : url[..(url.IndexOf("://", StringComparison.Ordinal) + 3)] + url[(at + 1)..];
    }

    // git@github.com:org/name(.git), ssh://git@github.com[:port]/org/name(.git), http(s)://[user[:pw]@]github.com/org/name(.git)(/), git://github.com/…
    [GeneratedRegex(
        @"^(?:(?:[A-Za-z0-9._-]+@)?github\.com:|(?:ssh|git|https?)://(?:[^@/]+@)?github\.com(?::\d+)?/)(?<org>[A-Za-z0-9_.-]+)/(?<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GitHubUrl();

    [GeneratedRegex(@"^(?<org>[A-Za-z0-9_.-]+)/(?<name>[A-Za-z0-9_.-]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex OrgAndName();
}
