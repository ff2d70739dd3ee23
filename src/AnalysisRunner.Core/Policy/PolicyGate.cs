namespace AnalysisRunner.Core.Policy;

/// <summary>
/// All the rules, in the order a user would fix them: dataset, output dir, membership, repository,
/// -SkipRepoCheckout, image, commit on main, the script in the commit. The gate only reads; nothing is
/// written until it passes. Each rule runs once per submission: the refusal is the first failed check.
/// </summary>
internal sealed class PolicyGate
{
    private readonly DatasetRegistry _registry;
    private readonly ICommitOnMainChecker? _commits;

    /// <param name="commits">
    /// The commit source (the authority's mirror snapshot); null when the repository is not allowlisted
    /// and so was not fetched: the rules that need it are then reported as skipped, never as passed.
    /// </param>
    public PolicyGate(DatasetRegistry registry, ICommitOnMainChecker? commits)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _commits = commits;
        var rules = new List<IPolicyRule>
        {
            new DatasetExistsRule(),
            new OutputDirRule(),
            new MembershipRule(),
            new RepositoryAllowlistRule(),
            new SkipRepoCheckoutRule(),
            new ImagePrefixRule(),
        };
        rules.Add(commits is null ? new NotFetched("CommitOnMain") : new CommitOnMainRule(commits));
        rules.Add(commits is ICommitSource source ? new ScriptInCommitRule(source) : new NotFetched("ScriptInCommit"));
        Rules = rules;
    }

    public IReadOnlyList<IPolicyRule> Rules { get; }

    /// <summary>Every rule's verdict (for -WhatIf); a failed check carries its error. Rules that need a missing dataset are reported as not passed.</summary>
    public IReadOnlyList<PolicyCheck> Evaluate(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var datasetMissing = _registry.Find(request.Dataset) is null;
        var checks = new List<PolicyCheck>(Rules.Count);
        foreach (var rule in Rules)
        {
            if (datasetMissing && rule is not (DatasetExistsRule or OutputDirRule))
            {
                checks.Add(new PolicyCheck(rule.Name, false, $"skipped: dataset '{request.Dataset}' is not in the registry"));
                continue;
            }
            if (rule is NotFetched)
            {
                checks.Add(new PolicyCheck(rule.Name, false, "skipped: the repository was not fetched, because an earlier check refused"));
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
                checks.Add(new PolicyCheck(rule.Name, false, ex.Message) { Error = ex });
            }
        }
        return checks;
    }

    /// <summary>The first refusal among <paramref name="checks"/>, in rule order; null when every check passed.</summary>
    public static AnalysisRunnerException? RefusalOf(IReadOnlyList<PolicyCheck> checks)
    {
        foreach (var check in checks)
            if (check.Error is not null) return check.Error;
        // A check that did not pass must never let a submission through, even one skipped without an error.
        var skipped = checks.FirstOrDefault(check => !check.Passed);
        return skipped is null ? null
            : new PolicyViolationException("PolicyNotEvaluated", ErrorKind.PermissionDenied, skipped.Rule,
                $"Check {skipped.Rule} could not be made ({skipped.Detail}), so the submission is refused.");
    }

    /// <summary>Throws the first violation, in rule order.</summary>
    public void Enforce(PolicyRequest request)
    {
        if (RefusalOf(Evaluate(request)) is { } refusal) throw refusal;
    }

    /// <summary>Stands in for a rule that needs the repository when it was not fetched.</summary>
    private sealed class NotFetched(string name) : IPolicyRule
    {
        public string Name => name;
        public void Check(PolicyRequest request, DatasetRegistry registry) =>
            throw new InvalidOperationException($"{name} needs the repository, which was not fetched.");
    }
}
