namespace AnalysisRunner.Core.Policy;

/// <summary>Everything the policy decides on: who wants to run what, where, at which access level.</summary>
internal sealed record PolicyRequest
{
    public required string Dataset { get; init; }
    public required AccessLevel AccessLevel { get; init; }
    public required string User { get; init; }

    /// <summary>Normalised repository (org/name for GitHub); null with SkipRepoCheckout.</summary>
    public string? Repository { get; init; }
    public string? Commit { get; init; }

    /// <summary>Where to fetch the repository from; defaults to RepositoryName.ToCloneUrl(Repository).</summary>
    public string? CloneUrl { get; init; }

    /// <summary>An explicit -Image; null means the registry's default image (checked the same way).</summary>
    public string? Image { get; init; }
    public required string OutputDir { get; init; }
    public bool SkipRepoCheckout { get; init; }

    /// <summary>The folder the run starts in and the script it runs, both as the commit holds them (ScriptInCommitRule).</summary>
    public string? Cwd { get; init; }
    public string? Script { get; init; }
}

/// <summary>One rule's verdict, as -WhatIf shows it.</summary>
public sealed record PolicyCheck(string Rule, bool Passed, string Detail)
{
    /// <summary>Why a rule refused; the first one in rule order is the submission's refusal.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public AnalysisRunnerException? Error { get; init; }
}

/// <summary>One decision the gate makes. Check throws PolicyViolationException to refuse and returns to allow.</summary>
internal interface IPolicyRule
{
    string Name { get; }
    void Check(PolicyRequest request, DatasetRegistry registry);
}

/// <summary>A rule that can say, for -WhatIf, why it allowed a request (or why it did not apply).</summary>
internal interface IExplainingPolicyRule : IPolicyRule
{
    /// <summary>Called only after Check passed.</summary>
    string Explain(PolicyRequest request, DatasetRegistry registry);
}

/// <summary>Answers whether a commit is on the repository's main branch (a fetch of the remote, in practice).</summary>
internal interface ICommitOnMainChecker
{
    bool IsOnMain(string cloneUrl, string commit);
}

/// <summary>The authority's own copy of the allowlisted remote, as one submission sees it (MirrorSnapshot).</summary>
internal interface ICommitSource : ICommitOnMainChecker
{
    /// <summary>The script a run names, found in the commit's tree; throws SourceException with the reason.</summary>
    Git.CommitScript ResolveScript(string commit, string cwd, string script);
}
