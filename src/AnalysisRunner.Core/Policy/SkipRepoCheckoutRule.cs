namespace AnalysisRunner.Core.Policy;

/// <summary>
/// -SkipRepoCheckout runs a command instead of a file of the commit, so nobody reviewed what runs.
/// Test runs may do it; standard and full only on a dataset whose registry entry says
/// allow_skip_repo_checkout = true. The repository and commit are still checked by the other rules.
/// </summary>
internal sealed class SkipRepoCheckoutRule : IExplainingPolicyRule
{
    public string Name => "SkipRepoCheckout";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        var entry = PolicyRules.RequireDataset(request, registry);
        if (!request.SkipRepoCheckout || request.AccessLevel == AccessLevel.Test || entry.AllowSkipRepoCheckout) return;
        throw new PolicyViolationException("SkipRepoCheckoutNotAllowed", ErrorKind.PermissionDenied, request.Dataset,
            $"-SkipRepoCheckout runs a command no one reviewed, which dataset '{request.Dataset}' does not allow at access level '{request.AccessLevel.ToConfigName()}'. " +
            $"Commit the command as a script and run that, use -AccessLevel test, or have an admin add allow_skip_repo_checkout = true to [datasets.{request.Dataset}] in {registry.SourceName}.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        !request.SkipRepoCheckout ? "skipped: the run checks out its commit"
        : request.AccessLevel == AccessLevel.Test ? "test access may run a command without a checkout"
        : $"datasets.{request.Dataset}.allow_skip_repo_checkout is true";
}
