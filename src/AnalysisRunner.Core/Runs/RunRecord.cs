namespace AnalysisRunner.Core.Runs;

/// <summary>
/// One accepted run: what Submit-Analysis returns and what the audit log keeps, with everything
/// needed to run it again exactly (repository, commit, cwd, script and arguments, configs, resources).
/// </summary>
public sealed record RunRecord
{
    public required string ArGuid { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required string User { get; init; }
    public required string Dataset { get; init; }
    public required AccessLevel AccessLevel { get; init; }

    /// <summary>Normalised repository (org/name for GitHub); null with -SkipRepoCheckout.</summary>
    public string? Repository { get; init; }
    public string? Commit { get; init; }

    /// <summary>Folder inside the repository the script runs from, relative to the git root ('.' for the root).</summary>
    public string? Cwd { get; init; }

    /// <summary>The script (or, with SkipRepoCheckout, the command) as the user typed it.</summary>
    public required string Script { get; init; }

    /// <summary>Every word after the script, verbatim and in order.</summary>
    public IReadOnlyList<string> ScriptArguments { get; init; } = [];
    public required string Description { get; init; }

    /// <summary>The output prefix as given (relative, no trailing slash).</summary>
    public required string OutputPrefix { get; init; }

    /// <summary>The full output location: the dataset's default bucket for the access level, plus the prefix.</summary>
    public required string OutputDir { get; init; }
    public required string ConfigPath { get; init; }
    public long DriverBatchId { get; init; }

    /// <summary>
    /// True when the run was stopped (Stop-Batch -ArGuid) before its driver batch was created, so it has
    /// none (DriverBatchId 0) and never will; false while one is only pending, and always on an embedded
    /// home (which writes the batch with the entry). Kept beside the entry, not in it (nor its hash).
    /// </summary>
    public bool DriverBatchWithheld { get; init; }
    public string? Image { get; init; }
    public double? Cpu { get; init; }
    public string? Memory { get; init; }
    public string? Storage { get; init; }
    public bool Preemptible { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The user's config files as given, in merge order.</summary>
    public IReadOnlyList<string> ConfigFiles { get; init; } = [];

    /// <summary>What each user config file held at submission, so a re-run merges the same text even if the file changed.</summary>
    public IReadOnlyList<ConfigSnapshot> ConfigSnapshots { get; init; } = [];
    public bool SkipRepoCheckout { get; init; }

    /// <summary>The run this one re-ran, if it was submitted from the log.</summary>
    public string? RerunOf { get; init; }

    /// <summary>The audit chain (AuditChain): the hash of the entry before this one, and this entry's own; set by the log.</summary>
    public string? PreviousHash { get; init; }
    public string? EntryHash { get; init; }

    /// <summary>The driver batch's web page, when a web address is configured; not part of the entry (nor its hash): where pages are served can change.</summary>
    public string? Url { get; init; }
}

/// <summary>The text of one user config file as it was merged.</summary>
public sealed record ConfigSnapshot(string Path, string Toml);
