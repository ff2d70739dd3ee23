using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// What a client captured for a submission, and nothing it decided: the repository URL (without
/// credentials), commit, folder, script and arguments, config file texts, description, output dir,
/// resources, image, environment. A client can lie about all of it: the authority (RunAuthority)
/// trusts none of it, re-derives everything from the allowlisted remote and the registry, and never
/// reads the client's machine. Serialisable as it is (Json), so a server receives exactly this.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SubmissionFacts
{
    public required string Dataset { get; init; }
    public required AccessLevel AccessLevel { get; init; }
    public required string Description { get; init; }
    public required string OutputDir { get; init; }

    /// <summary>The script (a path relative to Cwd), or with SkipRepoCheckout the command.</summary>
    public required string Script { get; init; }
    public IReadOnlyList<string> ScriptArguments { get; init; } = [];

    /// <summary>The origin URL or -Repository as given (userinfo already stripped); the authority maps it onto the allowlist.</summary>
    public string? RepositoryUrl { get; init; }

    /// <summary>A full sha as the client resolved it, or what the user typed (HEAD, a branch, a short sha).</summary>
    public string? Commit { get; init; }

    /// <summary>The folder inside the repository the script runs from, '/'-separated ("." for the root).</summary>
    public string? Cwd { get; init; }
    public bool SkipRepoCheckout { get; init; }

    public string? Image { get; init; }
    public string? Cpu { get; init; }
    public string? Memory { get; init; }
    public string? Storage { get; init; }
    public bool Preemptible { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Each -Config file's name (for messages and the log) and text, in merge order.</summary>
    public IReadOnlyList<ConfigSnapshot> ConfigFiles { get; init; } = [];

    /// <summary>What the client saw that the user should hear about (a dirty tree); shown, never decided on.</summary>
    public IReadOnlyList<string> ClientWarnings { get; init; } = [];

    /// <summary>
    /// False when the client's own refs say origin does not have the commit (it may be stale): the
    /// client asks before submitting. The authority decides only from its mirror.
    /// </summary>
    public bool? CommitPushed { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static SubmissionFacts FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<SubmissionFacts>(json, JsonOptions) ?? throw Invalid("it is empty");
        }
        catch (JsonException e)
        {
            throw Invalid(e.Message);
        }
    }

    /// <summary>
    /// What no client could have meant: missing required text, an access level outside the enum, null
    /// lists or entries. The authority calls this first, so such facts fail as InvalidSubmission (a
    /// server's 400), never as a crash in the middle of planning.
    /// </summary>
    public void Validate()
    {
        foreach (var (name, value) in new[] { ("dataset", Dataset), ("description", Description), ("outputDir", OutputDir), ("script", Script) })
            if (value is null) throw Invalid($"{name} is missing");
        if (!Enum.IsDefined(AccessLevel)) throw Invalid($"accessLevel {(int)AccessLevel} is not one of test, standard, full");
        if (ScriptArguments is null || ScriptArguments.Any(argument => argument is null)) throw Invalid("scriptArguments must be a list of strings");
        if (ConfigFiles is null || ConfigFiles.Any(file => file?.Path is null || file.Toml is null)) throw Invalid("configFiles must be a list of {path, toml}");
        if (Environment is null || Environment.Any(pair => pair.Value is null)) throw Invalid("environment must map names to strings");
        if (ClientWarnings is null) throw Invalid("clientWarnings must be a list");
        foreach (var (name, value) in Texts())
            if (value is not null && value.Contains('\0', StringComparison.Ordinal))
                throw new AnalysisRunnerException("InvalidSubmission", ErrorKind.InvalidData, name,
                    $"The submission is not valid: {name} holds a NUL character, which no argument, variable, path or file text can carry; remove it.");
    }

    /// <summary>
    /// Every text the run is made of, named as in the JSON. A NUL in one passed every rule and was
    /// logged, and then its driver batch could never be stored (PostgreSQL's text refuses it), so the
    /// dispatcher failed on that run at every retry and every server start; exec could not pass it on anyway.
    /// </summary>
    private IEnumerable<(string Name, string? Value)> Texts()
    {
        yield return ("dataset", Dataset);
        yield return ("description", Description);
        yield return ("outputDir", OutputDir);
        yield return ("script", Script);
        yield return ("repositoryUrl", RepositoryUrl);
        yield return ("commit", Commit);
        yield return ("cwd", Cwd);
        yield return ("image", Image);
        yield return ("cpu", Cpu);
        yield return ("memory", Memory);
        yield return ("storage", Storage);
        for (var i = 0; i < ScriptArguments.Count; i++) yield return ($"scriptArguments[{i}]", ScriptArguments[i]);
        // A name with a NUL is InvalidEnvironmentName, with every other name no variable can have.
        foreach (var (name, value) in Environment) yield return ($"environment.{name.Replace("\0", "", StringComparison.Ordinal)}", value);
        for (var i = 0; i < ConfigFiles.Count; i++)
        {
            yield return ($"configFiles[{i}].path", ConfigFiles[i].Path);
            yield return ($"configFiles[{i}].toml", ConfigFiles[i].Toml);
        }
        for (var i = 0; i < ClientWarnings.Count; i++) yield return ($"clientWarnings[{i}]", ClientWarnings[i]);
    }

    private static AnalysisRunnerException Invalid(string why) =>
        new("InvalidSubmission", ErrorKind.InvalidData, null, $"The submission is not valid: {why}.");

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}

/// <summary>
/// Who is submitting, as the host that received the request established it: on the embedded default
/// the operating-system account (Identity.OfOsAccount), on a server the token's user. Never a field
/// of the facts.
/// </summary>
/// <param name="User">The email the registry lists.</param>
/// <param name="Source">How the host knows, for messages ("os account root", "token 3f…").</param>
public sealed record Caller(string User, string Source);
