using System.Text.RegularExpressions;

namespace AnalysisRunner.Core.Git;

/// <summary>
/// One spelling per repository, so the allowlist compares like with like: every GitHub URL
/// form becomes org/name; anything else (another host, a local path) stays as given.
/// </summary>
internal static partial class RepositoryName
{
    public static string Normalize(string remoteUrl)
    {
        ArgumentNullException.ThrowIfNull(remoteUrl);
        var url = remoteUrl.Trim();
        var match = GitHubUrl().Match(url);
        if (match.Success) return $"{match.Groups["org"].Value}/{match.Groups["name"].Value}";
        url = WithoutCredentials(url);
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

    /// <summary>
    /// The URL without any secret it carries, so it can go into the database, configs, logs and
    /// messages: userinfo is dropped from every scheme://user[:password]@host URL (a token may be
    /// the user name, as GitLab and GitHub accept), except that ssh keeps its login name, which
    /// selects the key and is no secret. Fetching then needs a credential source (GitCredentials).
    /// </summary>
    public static string WithoutCredentials(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) return url;
        var authorityStart = schemeEnd + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0) authorityEnd = url.Length;
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        if (at < 0) return url;
        var scheme = url[..schemeEnd].ToLowerInvariant();
        var keep = "";
        if (scheme is "ssh" or "git+ssh" or "ssh+git")
        {
            var userInfo = url[authorityStart..at];
            var colon = userInfo.IndexOf(':');
            keep = (colon < 0 ? userInfo : userInfo[..colon]) + "@";
        }
        return url[..authorityStart] + keep + url[(at + 1)..];
    }

    // git@github.com:org/name(.git), ssh://git@github.com[:port]/org/name(.git), http(s)://[user[:pw]@]github.com/org/name(.git)(/), git://github.com/…
    [GeneratedRegex(
        @"^(?:(?:[A-Za-z0-9._-]+@)?github\.com:|(?:ssh|git|https?)://(?:[^@/]+@)?github\.com(?::\d+)?/)(?<org>[A-Za-z0-9_.-]+)/(?<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GitHubUrl();

    [GeneratedRegex(@"^(?<org>[A-Za-z0-9_.-]+)/(?<name>[A-Za-z0-9_.-]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex OrgAndName();
}
