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
            // From the runner's mirror the authority checked the commit in: no network, no credentials.
            var fromMirror = checkout.Mirror is { } mirror && Directory.Exists(mirror);
            Repository.Clone(fromMirror ? checkout.Mirror : checkout.CloneUrl, repositoryPath, new CloneOptions { Checkout = false });
            using var repository = new Repository(repositoryPath);
            if (fromMirror) repository.Network.Remotes.Update("origin", remote => remote.Url = checkout.CloneUrl);
            var commit = repository.Lookup<Commit>(checkout.Commit)
                ?? throw new SourceException("CommitNotFound", ErrorKind.ObjectNotFound, checkout.Commit,
                    $"Commit {checkout.Commit} is not in {checkout.CloneUrl}.");
            Commands.Checkout(repository, commit, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
            // Defence in depth: what runs is the file the authority approved, in the commit cloned here.
            if (checkout.Script is { } script) Git.CommitScripts.Resolve(commit, checkout.Cwd, script);
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
