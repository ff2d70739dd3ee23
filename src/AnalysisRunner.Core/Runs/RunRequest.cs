namespace AnalysisRunner.Core.Runs;

/// <summary>What the user asked for, before capture and policy. Every optional field has the runner's default.</summary>
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

    /// <summary>Overrides for implicit capture: Repository needs Commit; Commit alone re-resolves in the local checkout.</summary>
    public string? Repository { get; init; }
    public string? Commit { get; init; }
    public string? Cwd { get; init; }

    /// <summary>Run a command with no repository at all.</summary>
    public bool SkipRepoCheckout { get; init; }

    public string? Image { get; init; }
    public string? Cpu { get; init; }
    public string? Memory { get; init; }
    public string? Storage { get; init; }
    public bool Preemptible { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>User config files, merged left to right over the runner's baseline.</summary>
    public IReadOnlyList<string> ConfigFiles { get; init; } = [];

    /// <summary>Set by a re-run: the config text as first submitted, used instead of reading ConfigFiles again.</summary>
    public IReadOnlyList<ConfigSnapshot>? ConfigSnapshots { get; init; }
    public string? RerunOf { get; init; }

    /// <summary>Who submits; null means the embedded default identity of the checkout.</summary>
    public string? User { get; init; }

    /// <summary>Builds the request that runs a logged run again, exactly, as a new run.</summary>
    public static RunRequest FromRecord(RunRecord run, string workingDirectory) => new()
    {
        Dataset = run.Dataset,
        AccessLevel = run.AccessLevel,
        Description = run.Description,
        OutputDir = run.OutputPrefix,
        Script = run.Script,
        ScriptArguments = run.ScriptArguments,
        WorkingDirectory = workingDirectory,
        Repository = run.Repository,
        Commit = run.Commit,
        Cwd = run.Cwd,
        SkipRepoCheckout = run.SkipRepoCheckout,
        Image = run.Image,
        Cpu = run.Cpu?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Memory = run.Memory,
        Storage = run.Storage,
        Preemptible = run.Preemptible,
        Environment = run.Environment,
        ConfigFiles = run.ConfigFiles,
        ConfigSnapshots = run.ConfigSnapshots,
        RerunOf = run.ArGuid,
    };
}
