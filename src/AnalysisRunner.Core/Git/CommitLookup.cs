using LibGit2Sharp;

namespace AnalysisRunner.Core.Git;

/// <summary>Turns what a user types for a commit (HEAD, a branch, a tag, a short or full sha) into a full sha.</summary>
internal static class CommitLookup
{
    public static Commit Resolve(Repository repository, string commitish, string where)
    {
        if (string.IsNullOrWhiteSpace(commitish))
            throw NotFound(commitish, where);
        Commit? commit;
        try
        {
            commit = PeelToCommit(repository.Lookup(commitish.Trim()));
        }
        catch (AmbiguousSpecificationException ex)
        {
            throw new SourceException("AmbiguousCommit", ErrorKind.InvalidArgument, commitish,
                $"'{commitish}' matches more than one object in {where}; give more characters of the sha (or the full 40).", ex);
        }
        catch (LibGit2SharpException ex)
        {
            throw NotFound(commitish, where, ex);
        }
        return commit ?? throw NotFound(commitish, where);
    }

    /// <summary>Lookup&lt;Commit&gt; does not see through annotated tags, so follow them here.</summary>
    private static Commit? PeelToCommit(GitObject? found)
    {
        while (found is TagAnnotation tag) found = tag.Target;
        return found as Commit;
    }

    private static SourceException NotFound(string commitish, string where, Exception? inner = null) =>
        new("CommitNotFound", ErrorKind.ObjectNotFound, commitish,
            $"'{commitish}' is not a commit in {where}; give HEAD, a branch, a tag or a sha that exists there (push it first if it is only local).", inner);
}
