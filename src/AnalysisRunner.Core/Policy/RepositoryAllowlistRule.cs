using AnalysisRunner.Core.Git;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Only repositories the dataset lists may run on it, with or without -SkipRepoCheckout. The
/// comparison is exact after normalising both sides, so neither 'org/repo.evil' nor 'ORG/Repo'
/// passes for 'org/repo'.
/// </summary>
internal sealed class RepositoryAllowlistRule : IExplainingPolicyRule
{
    public string Name => "RepositoryAllowlist";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        PolicyRules.RequireDataset(request, registry);
        var key = $"datasets.{request.Dataset}.repositories";
        if (string.IsNullOrWhiteSpace(request.Repository))
            throw new PolicyViolationException("RepositoryNotAllowed", ErrorKind.PermissionDenied, request.Repository,
                $"No repository was given for dataset '{request.Dataset}'; run from a checkout whose origin is listed in {key} in {registry.SourceName}.");
        if (Allowed(request, registry) is not null) return;
        var repository = RepositoryName.Normalize(request.Repository);
        var entry = registry.Find(request.Dataset)!;
        throw new PolicyViolationException("RepositoryNotAllowed", ErrorKind.PermissionDenied, request.Repository,
            $"Repository '{repository}' may not run on dataset '{request.Dataset}' (allowed: {Describe(entry.Repositories)}). " +
            $"To allow it, add \"{repository}\" to {key} in {registry.SourceName}.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        $"'{RepositoryName.Normalize(request.Repository!)}' is in datasets.{request.Dataset}.repositories";

    /// <summary>
    /// The registry's own entry for the requested repository, or null. The authority fetches from
    /// this entry, never from the URL a client sent: a client cannot make the runner fetch from a
    /// host or path of its choosing by spelling an allowlisted repository another way.
    /// </summary>
    public static string? Allowed(PolicyRequest request, DatasetRegistry registry)
    {
        if (string.IsNullOrWhiteSpace(request.Repository) || registry.Find(request.Dataset) is not { } entry) return null;
        var repository = RepositoryName.Normalize(request.Repository);
        return entry.Repositories.FirstOrDefault(allowed => string.Equals(RepositoryName.Normalize(allowed), repository, StringComparison.Ordinal));
    }

    private static string Describe(IReadOnlyList<string> repositories) =>
        repositories.Count == 0 ? "none" : string.Join(", ", repositories);
}
