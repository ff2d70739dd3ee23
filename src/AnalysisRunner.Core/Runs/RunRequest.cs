namespace AnalysisRunner.Core.Runs;

/// <summary>What the user typed, before capture: FactsCapture turns it into SubmissionFacts. Every optional field has the runner's default.</summary>
public sealed record RunRequest
{
    public required string Dataset { get; init; }
    public required AccessLevel AccessLevel { get; init; }
    public required string Description { get; init; }
    public required string OutputDir { get; init; }
    public required string Script { get; init; }
    public IReadOnlyList<string> ScriptArguments { get; init; } = [];

    /// <summary>Where the user stands; the source is captured from the checkout around it.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>Overrides for implicit capture: Repository needs Commit; Commit alone resolves in the local checkout first.</summary>
    public string? Repository { get; init; }
    public string? Commit { get; init; }
    public string? Cwd { get; init; }

    /// <summary>Run a command instead of a file of the commit (the repository and commit are still checked).</summary>
    public bool SkipRepoCheckout { get; init; }

    public string? Image { get; init; }
    public string? Cpu { get; init; }
    public string? Memory { get; init; }
    public string? Storage { get; init; }
    public bool Preemptible { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>User config files, merged left to right over the runner's baseline; their text is what travels.</summary>
    public IReadOnlyList<string> ConfigFiles { get; init; } = [];
}
