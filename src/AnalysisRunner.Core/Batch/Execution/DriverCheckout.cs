using LibGit2Sharp;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// Puts a driver job's repository in place: clone into &lt;work&gt;/repo, check the commit out detached,
/// and return the folder to run from (Cwd inside the clone, never outside it). Each step is announced
/// to <see cref="Steps"/> as it starts and ends, so the driver's log shows what it did and how long it took.
/// </summary>
public static class DriverCheckout
{
    /// <summary>Told of each step as it starts and when it is done.</summary>
    public sealed record Steps(Action<string> Started, Action<string> Done)
    {
        public static readonly Steps None = new(_ => { }, _ => { });
    }

    public static string Checkout(CheckoutSpec checkout, string workDirectory, Steps? steps = null)
    {
        steps ??= Steps.None;
        var repositoryPath = Path.Combine(workDirectory, "repo");
        try
        {
            steps.Started("credentials: none (the clone URL carries none, and no credential helper is configured)");
            var clone = $"clone {checkout.CloneUrl} into {repositoryPath}";
            steps.Started(clone);
            Repository.Clone(checkout.CloneUrl, repositoryPath, new CloneOptions { Checkout = false });
            steps.Done(clone);
            var step = $"checkout {checkout.Commit} (detached)";
            steps.Started(step);
            using var repository = new Repository(repositoryPath);
            var commit = repository.Lookup<Commit>(checkout.Commit)
                ?? throw new SourceException("CommitNotFound", ErrorKind.ObjectNotFound, checkout.Commit,
                    $"Commit {checkout.Commit} is not in {checkout.CloneUrl}.");
            Commands.Checkout(repository, commit, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
            steps.Done(step);
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
        steps.Started($"cd {Path.GetRelativePath(workDirectory, cwd)}");
        return cwd;
    }
}
