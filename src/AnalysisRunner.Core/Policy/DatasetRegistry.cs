using System.Text.RegularExpressions;
using AnalysisRunner.Core.Config;
using Tomlyn;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// One dataset: which repositories may run on it, who may run at each access level, which extra
/// images it allows, and whether standard/full runs may use -SkipRepoCheckout.
/// </summary>
public sealed record DatasetEntry(
    string Name,
    IReadOnlyList<string> Repositories,
    IReadOnlyDictionary<AccessLevel, IReadOnlyList<string>> Members,
    IReadOnlyList<string> ImagePrefixes,
    bool AllowSkipRepoCheckout = false);

/// <summary>
/// The registry file: datasets, their members and allowed repositories, and the images runs may use.
/// Parsing is strict (unknown keys are errors) because a misspelt key would silently grant or deny access.
/// </summary>
public sealed partial class DatasetRegistry
{
    public const string BuiltInDefaultImage = "australia-southeast1-docker.pkg.dev/analysis-runner/images/driver:latest";

    private static readonly string[] TopLevelKeys = ["default_image", "image_prefixes", "datasets"];
    private static readonly string[] DatasetKeys = ["repositories", "members", "image_prefixes", "allow_skip_repo_checkout"];

    private readonly Dictionary<string, DatasetEntry> _datasets;

    private DatasetRegistry(string sourceName, string defaultImage, IReadOnlyList<string> imagePrefixes, Dictionary<string, DatasetEntry> datasets)
    {
        SourceName = sourceName;
        DefaultImage = defaultImage;
        ImagePrefixes = imagePrefixes;
        _datasets = datasets;
        DatasetNames = datasets.Keys.ToArray();
    }

    /// <summary>The file (or name) the registry was read from, for messages that say where to make a change.</summary>
    public string SourceName { get; }
    public IReadOnlyList<string> DatasetNames { get; }
    public IReadOnlyList<string> ImagePrefixes { get; }
    public string DefaultImage { get; }

    public DatasetEntry? Find(string name) =>
        name is not null && _datasets.TryGetValue(name, out var entry) ? entry : null;

    /// <summary>
    /// DatasetNotFound for a name the registry does not have, listing the ones it has; a bucket-style
    /// name ("fewgenomes-test") gets the dataset and access level it probably meant.
    /// </summary>
    public AnalysisRunnerException NotFound(string name)
    {
        var known = DatasetNames.Count == 0 ? "none" : string.Join(", ", DatasetNames);
        var meant = AccessLevelNames.All
            .Select(level => (Level: level, Suffix: "-" + (level == "test" ? "test" : "main")))
            .FirstOrDefault(guess => name.EndsWith(guess.Suffix, StringComparison.Ordinal) && Find(name[..^guess.Suffix.Length]) is not null);
        var hint = meant.Level is null ? "" : $" For the {meant.Level} runs of {name[..^meant.Suffix.Length]}, use -Dataset {name[..^meant.Suffix.Length]} -AccessLevel {meant.Level}.";
        return new AnalysisRunnerException("DatasetNotFound", ErrorKind.ObjectNotFound, name,
            $"Dataset '{name}' is not in the registry '{SourceName}' (known datasets: {known}).{hint}");
    }

    public static DatasetRegistry Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = TomlFiles.ReadText(path, "RegistryNotFound",
            $"The dataset registry '{path}' does not exist; create it (DatasetRegistry.DefaultToml gives a working start).");
        return Parse(text, path);
    }

    public static DatasetRegistry Parse(string toml, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(toml);
        TomlTable root;
        try
        {
            root = TomlFiles.Parse(toml, sourceName);
        }
        catch (ConfigException ex)
        {
            throw new ConfigException("InvalidRegistry", ErrorKind.InvalidData, sourceName,
                ex.Message.Replace("is not valid TOML", "is not a valid dataset registry"), ex);
        }

        var reader = new Reader(sourceName);
        reader.OnlyKeys(root, TopLevelKeys, "the top level");
        var defaultImage = reader.OptionalString(root, "default_image") ?? BuiltInDefaultImage;
        var imagePrefixes = reader.OptionalStrings(root, "image_prefixes", "image_prefixes");

        var datasets = new Dictionary<string, DatasetEntry>(StringComparer.Ordinal);
        if (root.TryGetValue("datasets", out var datasetsValue))
        {
            var datasetsTable = reader.Table(datasetsValue, "datasets");
            foreach (var (name, value) in datasetsTable)
            {
                if (!DatasetName().IsMatch(name))
                    throw reader.Invalid($"dataset name '{name}' is not allowed: use lowercase letters, digits and '-' (it becomes part of bucket names)");
                datasets[name] = ReadDataset(reader, name, reader.Table(value, $"datasets.{name}"));
            }
        }
        return new DatasetRegistry(sourceName, defaultImage, imagePrefixes, datasets);
    }

    private static DatasetEntry ReadDataset(Reader reader, string name, TomlTable table)
    {
        var key = $"datasets.{name}";
        reader.OnlyKeys(table, DatasetKeys, key);
        var repositories = reader.OptionalStrings(table, "repositories", $"{key}.repositories");
        var imagePrefixes = reader.OptionalStrings(table, "image_prefixes", $"{key}.image_prefixes");

        var members = new Dictionary<AccessLevel, IReadOnlyList<string>>();
        foreach (var level in Enum.GetValues<AccessLevel>()) members[level] = [];
        if (table.TryGetValue("members", out var membersValue))
        {
            var membersTable = reader.Table(membersValue, $"{key}.members");
            reader.OnlyKeys(membersTable, AccessLevelNames.All, $"{key}.members");
            foreach (var level in Enum.GetValues<AccessLevel>())
                members[level] = reader.OptionalStrings(membersTable, level.ToConfigName(), $"{key}.members.{level.ToConfigName()}");
        }
        var allowSkip = table.TryGetValue("allow_skip_repo_checkout", out var skipValue)
            && (skipValue as bool? ?? throw reader.Invalid($"'{key}.allow_skip_repo_checkout' must be true or false"));
        return new DatasetEntry(name, repositories, members, imagePrefixes, allowSkip);
    }

    /// <summary>
    /// The registry written on first run: one dataset, fewgenomes, that the user may run on at
    /// test and standard, with comments saying how to add datasets, repositories and members.
    /// </summary>
    public static string DefaultToml(string user)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        // Values go through Tomlyn so any user name (quotes, backslashes) stays valid TOML.
        string Line(string key, object value) => TomlSerializer.Serialize(new TomlTable { [key] = value }).TrimEnd();
        var prefixes = new TomlArray
        {
            "australia-southeast1-docker.pkg.dev/analysis-runner/",
            "australia-southeast1-docker.pkg.dev/cpg-common/",
        };
        return $"""
            # AnalysisRunner dataset registry: who may run which code on which dataset.
            # Every submission is checked against this file; a change here takes effect on the next submission.

            # The driver image used when -Image is not given.
            {Line("default_image", BuiltInDefaultImage)}

            # Runs at standard or full access may only use images that start with one of these prefixes.
            # (Runs at test access may use any image.)
            {Line("image_prefixes", prefixes)}

            # To add a dataset, add a [datasets.<name>] table like the one below. The name is lowercase
            # letters, digits and '-', and names its buckets: cpg-<name>-test, cpg-<name>-main, ...
            [datasets.fewgenomes]
            # Repositories whose code may run on this dataset: "org/name" for GitHub, or a URL or path
            # for anything else, exactly as the origin remote normalises. Add one per entry, e.g.
            #   repositories = ["populationgenomics/analysis-runner", "my-org/my-analysis"]
            {Line("repositories", new TomlArray { "populationgenomics/analysis-runner" })}
            # Extra image prefixes allowed for this dataset only, on top of the global ones.
            {Line("image_prefixes", new TomlArray())}

            # Who may run at each access level: test uses the test buckets, standard and full the main
            # ones. Add a member by adding their email to a list (settings.toml [identity.users] maps
            # operating-system accounts to these emails; emails compare without case).
            [datasets.fewgenomes.members]
            {Line("test", new TomlArray { user })}
            {Line("standard", new TomlArray { user })}
            {Line("full", new TomlArray())}

            """;
    }

    /// <summary>Typed reads with one error shape: which key, which file, what was expected.</summary>
    private sealed class Reader(string sourceName)
    {
        public ConfigException Invalid(string what) =>
            new("InvalidRegistry", ErrorKind.InvalidData, sourceName,
                $"The dataset registry '{sourceName}' is invalid: {what}.");

        public void OnlyKeys(TomlTable table, IReadOnlyList<string> allowed, string where)
        {
            foreach (var key in table.Keys)
                if (!allowed.Contains(key, StringComparer.Ordinal))
                    throw Invalid($"unknown key '{key}' in {where}; the keys allowed there are {string.Join(", ", allowed)}");
        }

        public TomlTable Table(object value, string key) =>
            value as TomlTable ?? throw Invalid($"'{key}' must be a table, not {Describe(value)}");

        public string? OptionalString(TomlTable table, string key)
        {
            if (!table.TryGetValue(key, out var value)) return null;
            return value is string text && !string.IsNullOrWhiteSpace(text)
                ? text
                : throw Invalid($"'{key}' must be a non-empty string, not {Describe(value)}");
        }

        public IReadOnlyList<string> OptionalStrings(TomlTable table, string key, string fullKey)
        {
            if (!table.TryGetValue(key, out var value)) return [];
            if (value is not TomlArray array)
                throw Invalid($"'{fullKey}' must be an array of strings, not {Describe(value)}");
            var result = new List<string>(array.Count);
            foreach (var item in array)
            {
                if (item is not string text || string.IsNullOrWhiteSpace(text))
                    throw Invalid($"'{fullKey}' must hold only non-empty strings, but holds {Describe(item)}");
                result.Add(text);
            }
            return result;
        }

        private static string Describe(object? value) => value switch
        {
            null => "nothing",
            string s => $"the string \"{s}\"",
            TomlTable => "a table",
            TomlArray or TomlTableArray => "an array",
            _ => $"the {value.GetType().Name.ToLowerInvariant()} {value}",
        };
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")]
    private static partial Regex DatasetName();
}
