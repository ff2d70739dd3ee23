using LibGit2Sharp;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// Puts a driver job's repository in place: clone into &lt;work&gt;/repo, check the commit out detached,
/// and return the folder to run from (Cwd inside the clone, never outside it). Each step is announced
/// to <see cref="Steps"/> as it starts and ends, so the driver's log shows what it did and how long it took.
/// </summary>
internal static class DriverCheckout
{
    /// <summary>Told of each step as it starts and when it is done.</summary>
    public sealed record Steps(Action<string> Started, Action<string> Done)
    {
        public static readonly Steps None = new(_ => { }, _ => { });
    }

    /// <summary>What a checkout does, step by step, as the driver's command shows it and its log records it.</summary>
    public static IReadOnlyList<string> StepsFor(CheckoutSpec checkout) =>
    [
        checkout.Mirror is null
            ? "credentials: none (the clone URL carries none, and no credential helper is configured)"
            : "credentials: none (cloned from the runner's mirror, where the commit was checked; no network)",
        checkout.Mirror is null ? $"clone {checkout.CloneUrl} into {RepositoryFolder}" : $"clone {checkout.CloneUrl} (from the runner's mirror) into {RepositoryFolder}",
        $"checkout {checkout.Commit} (detached)",
        $"cd {Path.Combine(RepositoryFolder, string.IsNullOrEmpty(checkout.Cwd) ? "." : checkout.Cwd)}",
    ];

    private const string RepositoryFolder = "repo";

    public static string Checkout(CheckoutSpec checkout, string workDirectory, Steps? steps = null)
    {
        steps ??= Steps.None;
        var (credentials, clone, detach, cd) = StepsFor(checkout) switch { var s => (s[0], s[1], s[2], s[3]) };
        var repositoryPath = Path.Combine(workDirectory, RepositoryFolder);
        try
        {
            steps.Started(credentials);
            steps.Started(clone);
            // From the runner's mirror the authority checked the commit in: no network, no credentials.
            var fromMirror = checkout.Mirror is { } mirror && Directory.Exists(mirror);
            Repository.Clone(fromMirror ? checkout.Mirror : checkout.CloneUrl, repositoryPath, new CloneOptions { Checkout = false });
            steps.Done(clone);
            steps.Started(detach);
            using var repository = new Repository(repositoryPath);
            if (fromMirror) repository.Network.Remotes.Update("origin", remote => remote.Url = checkout.CloneUrl);
            var commit = repository.Lookup<Commit>(checkout.Commit)
                ?? throw new SourceException("CommitNotFound", ErrorKind.ObjectNotFound, checkout.Commit,
                    $"Commit {checkout.Commit} is not in {checkout.CloneUrl}.");
            Commands.Checkout(repository, commit, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
            // Defence in depth: what runs is the file the authority approved, in the commit cloned here.
            if (checkout.Script is { } script) Git.CommitScripts.Resolve(commit, checkout.Cwd, script);
            steps.Done(detach);
        }
        catch (LibGit2SharpException e)
        {
            throw new SourceException("CheckoutFailed", ErrorKind.ResourceUnavailable, checkout.CloneUrl,
                $"Could not check out {checkout.Commit} from {checkout.CloneUrl}: {e.Message}", e);
        }

        var root = Path.GetFullPath(repositoryPath);
        var cwd = Path.GetFullPath(Path.Combine(root, string.IsNullOrEmpty(checkout.Cwd) ? "." : checkout.Cwd));
        if (cwd != root && !cwd.StartsWith(root + "/", StringComparison.Ordinal))
            throw new SourceException("InvalidCwd", ErrorKind.InvalidArgument, checkout.Cwd, $"'{checkout.Cwd}' is outside the repository.");
        if (!Directory.Exists(cwd))
            throw new SourceException("CwdNotFound", ErrorKind.ObjectNotFound, checkout.Cwd,
                $"'{checkout.Cwd}' does not exist at commit {checkout.Commit}.");
        steps.Started(cd);
        return cwd;
    }
}
