namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Only the members listed for a dataset at an access level may run there. Each level is its own list.
/// Emails compare without case (as mail systems treat them), so "Alice@…" in the registry is "alice@…".
/// </summary>
internal sealed class MembershipRule : IExplainingPolicyRule
{
    public string Name => "Membership";

    public void Check(PolicyRequest request, DatasetRegistry registry)
    {
        var entry = PolicyRules.RequireDataset(request, registry);
        if (entry.Members[request.AccessLevel].Contains(request.User, Hosting.Identity.Comparer)) return;
        var key = Key(request);
        throw new PolicyViolationException("NotAMember", ErrorKind.PermissionDenied, request.User,
            $"User '{request.User}' may not run on dataset '{request.Dataset}' at access level '{request.AccessLevel.ToConfigName()}'. " +
            $"To allow it, add \"{request.User}\" to {key} in {registry.SourceName}.");
    }

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        $"'{request.User}' is in {Key(request)}";

    private static string Key(PolicyRequest request) =>
        $"datasets.{request.Dataset}.members.{request.AccessLevel.ToConfigName()}";
}
