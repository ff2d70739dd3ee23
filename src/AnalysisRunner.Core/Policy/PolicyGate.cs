namespace AnalysisRunner.Core.Policy;

/// <summary>
/// All the rules, in the order a user would fix them: dataset, output dir, membership,
/// repository, image, commit on main. The gate only reads; nothing is written until it passes.
/// </summary>
public sealed class PolicyGate
{
    private readonly DatasetRegistry _registry;

    public PolicyGate(DatasetRegistry registry, ICommitOnMainChecker commits)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        ArgumentNullException.ThrowIfNull(commits);
        Rules =
        [
            new DatasetExistsRule(),
            new OutputDirRule(),
            new MembershipRule(),
            new RepositoryAllowlistRule(),
            new ImagePrefixRule(),
            new CommitOnMainRule(commits),
        ];
    }

    public IReadOnlyList<IPolicyRule> Rules { get; }

    /// <summary>Every rule's verdict (for -WhatIf). Rules that need a missing dataset are reported as not passed.</summary>
    public IReadOnlyList<PolicyCheck> Evaluate(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var datasetMissing = _registry.Find(request.Dataset) is null;
        var checks = new List<PolicyCheck>(Rules.Count);
        foreach (var rule in Rules)
        {
            if (datasetMissing && rule is MembershipRule or RepositoryAllowlistRule or ImagePrefixRule)
            {
                checks.Add(new PolicyCheck(rule.Name, false, $"skipped: dataset '{request.Dataset}' is not in the registry"));
                continue;
            }
            try
            {
                rule.Check(request, _registry);
                var detail = rule is IExplainingPolicyRule explaining ? explaining.Explain(request, _registry) : "passed";
                checks.Add(new PolicyCheck(rule.Name, true, detail));
            }
            catch (AnalysisRunnerException ex)
            {
                // Includes a remote that cannot be reached: -WhatIf reports it instead of stopping.
                checks.Add(new PolicyCheck(rule.Name, false, ex.Message));
            }
        }
        return checks;
    }

    /// <summary>Throws the first violation, in rule order.</summary>
    public void Enforce(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var rule in Rules) rule.Check(request, _registry);
    }
}
