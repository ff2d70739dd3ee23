using LibGit2Sharp;
using LibGit2Sharp.Handlers;

namespace AnalysisRunner.Core.Git;

/// <summary>
/// Where the runner gets the secrets a fetch needs, since no URL it stores may carry one
/// (RepositoryName.WithoutCredentials). The source is a file in git-credential-store's format, one
/// <c>https://user:token@host[/path]</c> per line (what <c>git credential-store --file F store</c>
/// writes), named in settings.toml as <c>[git] credentials = "F"</c>: the admin's file, never a
/// user's. A line applies to URLs with the same scheme, host and port whose path starts with its path.
/// </summary>
public sealed class GitCredentials
{
    private readonly IReadOnlyList<Uri> _entries;

    private GitCredentials(IReadOnlyList<Uri> entries) => _entries = entries;

    /// <summary>No credentials: fetches run anonymously.</summary>
    public static GitCredentials None { get; } = new([]);

    /// <summary>Reads the file (null or missing path: none). Lines that are not absolute URLs with userinfo are skipped.</summary>
    public static GitCredentials FromFile(string? path)
    {
        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path)) return None;
        var entries = new List<Uri>();
        foreach (var line in File.ReadLines(path))
        {
            var text = line.Trim();
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0) entries.Add(uri);
        }
        return new GitCredentials(entries);
    }

    /// <summary>The user name and secret for <paramref name="url"/>, or null when the file has none for it.</summary>
    public (string User, string Secret)? For(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var target)) return null;
        foreach (var entry in _entries)
        {
            if (!string.Equals(entry.Scheme, target.Scheme, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(entry.Host, target.Host, StringComparison.OrdinalIgnoreCase)
                || entry.Port != target.Port)
                continue;
            var prefix = entry.AbsolutePath.TrimEnd('/');
            if (prefix.Length > 0 && !(target.AbsolutePath == prefix || target.AbsolutePath.StartsWith(prefix + "/", StringComparison.Ordinal)))
                continue;
            var colon = entry.UserInfo.IndexOf(':');
            var user = Uri.UnescapeDataString(colon < 0 ? entry.UserInfo : entry.UserInfo[..colon]);
            var secret = colon < 0 ? "" : Uri.UnescapeDataString(entry.UserInfo[(colon + 1)..]);
            return (user, secret);
        }
        return null;
    }

    /// <summary>For LibGit2Sharp's fetch options; null when there is nothing to offer, so anonymous fetches stay as they were.</summary>
    public CredentialsHandler? Handler =>
        _entries.Count == 0
            ? null
            : (url, _, _) => For(url) is { } found
                ? new UsernamePasswordCredentials { Username = found.User, Password = found.Secret }
                : new DefaultCredentials();
}
