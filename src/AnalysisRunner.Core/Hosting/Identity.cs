using LibGit2Sharp;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// Who is submitting. The embedded default trusts the machine: the git user.email of the
/// checkout (local, then global config), else the operating-system user name.
/// A server deployment replaces this with the authenticated caller.
/// </summary>
public static class Identity
{
    public static string Current(string? workingDirectory = null)
    {
        var email = ReadGitEmail(workingDirectory);
        return string.IsNullOrWhiteSpace(email) ? Environment.UserName : email.Trim();
    }

    private static string? ReadGitEmail(string? workingDirectory)
    {
        try
        {
            var gitRoot = workingDirectory is null ? null : Repository.Discover(workingDirectory);
            if (gitRoot is not null)
            {
                using var repository = new Repository(gitRoot);
                var value = repository.Config.Get<string>("user.email");
                if (value is not null) return value.Value;
            }
            using var global = Configuration.BuildFrom(null);
            return global.Get<string>("user.email")?.Value;
        }
        catch (LibGit2SharpException)
        {
            return null;
        }
    }
}
