using LibGit2Sharp;

namespace AnalysisRunner.Core.Git;

/// <summary>Where a submission comes from: enough to check out exactly the same code again.</summary>
/// <param name="GitRoot">The working tree's root folder, absolute, without a trailing separator.</param>
/// <param name="Repository">The origin remote normalised with <see cref="RepositoryName.Normalize"/>.</param>
/// <param name="OriginUrl">The origin remote's URL as configured.</param>
/// <param name="Commit">Full sha of HEAD.</param>
/// <param name="Cwd">The captured folder relative to GitRoot, '/'-separated, "." at the root.</param>
/// <param name="IsDirty">Tracked changes or untracked (not ignored) files: the run would not see them.</param>
/// <param name="OriginHasCommit">HEAD is reachable from a refs/remotes/origin/* ref (as last fetched; no network).</param>
internal sealed record SourceSnapshot(
    string GitRoot, string Repository, string OriginUrl, string Commit, string Cwd, bool IsDirty, bool OriginHasCommit);

internal static class SourceCapture
{
    public static SourceSnapshot Capture(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var fullDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (!Directory.Exists(fullDirectory))
            throw NotARepository(directory, "the folder does not exist");

        using var repository = Open(fullDirectory, directory);
        if (repository.Info.IsBare || repository.Info.WorkingDirectory is null)
            throw NotARepository(directory, "it is a bare repository with no working tree");

        var gitRoot = FindWorkingTreeRoot(fullDirectory)
            ?? Path.TrimEndingDirectorySeparator(repository.Info.WorkingDirectory);
        var cwd = Path.GetRelativePath(gitRoot, fullDirectory).Replace(Path.DirectorySeparatorChar, '/');

        var origin = repository.Network.Remotes["origin"];
        if (origin is null || string.IsNullOrWhiteSpace(origin.Url))
            throw new SourceException("NoOriginRemote", ErrorKind.ObjectNotFound, gitRoot,
                $"The repository at '{gitRoot}' has no 'origin' remote; add one (git remote add origin <url>) so the run can be traced to a repository.");

        var head = repository.Head.Tip;
        if (repository.Info.IsHeadUnborn || head is null)
            throw new SourceException("NoCommits", ErrorKind.InvalidOperation, gitRoot,
                $"The repository at '{gitRoot}' has no commits yet; commit (and push) the code you want to run first.");

        return new SourceSnapshot(
            GitRoot: gitRoot,
            Repository: RepositoryName.Normalize(origin.Url),
            OriginUrl: origin.Url,
            Commit: head.Sha,
            Cwd: cwd,
            IsDirty: IsDirty(repository),
            OriginHasCommit: OriginHas(repository, head));
    }

    public static string ResolveCommit(string gitRoot, string commitish)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gitRoot);
        using var repository = Open(gitRoot, gitRoot);
        return CommitLookup.Resolve(repository, commitish, $"the repository at '{gitRoot}'").Sha;
    }

    private static Repository Open(string directory, string asGiven)
    {
        var gitPath = Repository.Discover(directory);
        if (gitPath is null) throw NotARepository(asGiven, "no .git was found in it or any folder above it");
        try
        {
            return new Repository(gitPath);
        }
        catch (LibGit2SharpException ex)
        {
            throw new SourceException("NotAGitRepository", ErrorKind.ObjectNotFound, asGiven,
                $"'{asGiven}' is not inside a usable git repository ({ex.Message}); run from a git checkout.", ex);
        }
    }

    /// <summary>
    /// The nearest folder at or above the directory that holds a .git entry, as the user spells it.
    /// libgit2 may report the root through resolved symlinks, and a relative cwd must not depend on that.
    /// </summary>
    private static string? FindWorkingTreeRoot(string fullDirectory)
    {
        for (var current = new DirectoryInfo(fullDirectory); current is not null; current = current.Parent)
        {
            var dotGit = Path.Combine(current.FullName, ".git");
            if (Directory.Exists(dotGit) || File.Exists(dotGit))
                return Path.TrimEndingDirectorySeparator(current.FullName);
        }
        return null;
    }

    private static bool IsDirty(Repository repository)
    {
        var status = repository.RetrieveStatus(new StatusOptions
        {
            IncludeIgnored = false,
            IncludeUntracked = true,
            RecurseUntrackedDirs = false,
            DetectRenamesInIndex = false,
            DetectRenamesInWorkDir = false,
        });
        return status.Any(entry => entry.State is not (FileStatus.Unaltered or FileStatus.Ignored));
    }

    private static bool OriginHas(Repository repository, Commit head)
    {
        var remoteRefs = repository.Refs.FromGlob("refs/remotes/origin/*").ToList();
        return remoteRefs.Count > 0 && repository.Refs.ReachableFrom(remoteRefs, [head]).Any();
    }

    private static SourceException NotARepository(string directory, string why) =>
        new("NotAGitRepository", ErrorKind.ObjectNotFound, directory,
            $"'{directory}' is not inside a git repository ({why}); run from a git checkout of the code to submit.");
}
