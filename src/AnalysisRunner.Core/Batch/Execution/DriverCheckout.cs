using LibGit2Sharp;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// Puts a driver job's repository in place: clone into &lt;work&gt;/repo, check the commit out detached,
/// and return the folder to run from (Cwd inside the clone, never outside it).
/// </summary>
public static class DriverCheckout
{
    public static string Checkout(CheckoutSpec checkout, string workDirectory)
    {
        var repositoryPath = Path.Combine(workDirectory, "repo");
        try
        {
            Repository.Clone(checkout.CloneUrl, repositoryPath, new CloneOptions { Checkout = false });
            using var repository = new Repository(repositoryPath);
            var commit = repository.Lookup<Commit>(checkout.Commit)
                ?? throw new SourceException("CommitNotFound", ErrorKind.ObjectNotFound, checkout.Commit,
                    $"Commit {checkout.Commit} is not in {checkout.CloneUrl}.");
            Commands.Checkout(repository, commit, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
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
        return cwd;
    }
}
