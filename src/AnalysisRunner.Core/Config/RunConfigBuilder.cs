using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Storage;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>What the runner itself knows about a run and writes into its config.</summary>
public sealed record RunConfigInput
{
    public required string ArGuid { get; init; }
    public required string Dataset { get; init; }
    public required AccessLevel AccessLevel { get; init; }
    public required string OutputPrefix { get; init; }
    public required string DriverImage { get; init; }
    public required string User { get; init; }
    public string? Repository { get; init; }
    public string? Commit { get; init; }
    public required string Description { get; init; }
    public required BucketLayout Buckets { get; init; }
}

/// <summary>
/// The per-run config: templates, then what the runner decided (the baseline), then the user's
/// files left to right. The baseline sits above the templates so no template can change the
/// dataset or access level; protected keys keep user files from doing it either.
/// </summary>
public static class RunConfigBuilder
{
    public static TomlTable Build(RunConfigInput input, IEnumerable<ConfigSnapshot> templates, IEnumerable<ConfigSnapshot> userConfigs)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(templates);
        ArgumentNullException.ThrowIfNull(userConfigs);
        if (input.Buckets.Dataset != input.Dataset || input.Buckets.AccessLevel != input.AccessLevel)
            throw new ArgumentException(
                $"The bucket layout is for {input.Buckets.Dataset}/{input.Buckets.AccessLevel.ToConfigName()}, the run for {input.Dataset}/{input.AccessLevel.ToConfigName()}.",
                nameof(input));

        var merged = new TomlTable();
        foreach (var template in templates)
            TomlMerge.MergeInto(merged, TomlFiles.Parse(template.Toml, template.Path));

        TomlMerge.MergeInto(merged, Baseline(input));

        // Parsing dominates; files are independent, so parse them in parallel
        // and merge in the user's order. The first file in order that fails is the one reported.
        var users = userConfigs.ToList();
        var parsed = users.AsParallel().AsOrdered()
            .Select(user => Parsed.Of(() => TomlFiles.Parse(user.Toml, user.Path)))
            .ToList();
        for (var i = 0; i < users.Count; i++)
        {
            var table = parsed[i].Value;
            ProtectedKeys.Check(table, users[i].Path);
            TomlMerge.MergeInto(merged, table);
        }
        return merged;
    }

    private readonly record struct Parsed(TomlTable? Table, ConfigException? Error)
    {
        public TomlTable Value => Error is null ? Table! : throw Error;

        public static Parsed Of(Func<TomlTable> parse)
        {
            try
            {
                return new Parsed(parse(), null);
            }
            catch (ConfigException error)
            {
                return new Parsed(null, error);
            }
        }
    }

    internal static TomlTable Baseline(RunConfigInput input)
    {
        var workflow = new TomlTable
        {
            ["ar_guid"] = input.ArGuid,
            ["access_level"] = input.AccessLevel.ToConfigName(),
            ["dataset"] = input.Dataset,
            ["output_prefix"] = input.OutputPrefix,
            ["driver_image"] = input.DriverImage,
            ["description"] = input.Description,
            ["user"] = input.User,
        };
        if (input.Repository is not null) workflow["repository"] = input.Repository;
        if (input.Commit is not null) workflow["commit"] = input.Commit;

        var storage = new TomlTable
        {
            ["default"] = StorageTable(input.Buckets),
            [input.Dataset] = StorageTable(input.Buckets),
        };

        return new TomlTable
        {
            ["workflow"] = workflow,
            ["hail"] = new TomlTable
            {
                ["billing_project"] = input.Dataset,
                ["bucket"] = input.Buckets.Tmp,
            },
            ["storage"] = storage,
        };
    }

    private static TomlTable StorageTable(BucketLayout buckets)
    {
        var table = new TomlTable();
        foreach (var category in BucketLayout.CategoryNames)
            table[category] = buckets.Categories[category];
        return table;
    }
}
