using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// Makes a runner home usable on first touch: folders, a registry naming the current user,
/// a config template, and the key run tokens are signed with (keys/, readable by the owner only). Existing files are never overwritten: the home belongs to its admin.
/// </summary>
internal static class HomeInitializer
{
    public const string DefaultTemplateName = "00-defaults.toml";

    public static void EnsureInitialized(RunnerHome home)
    {
        foreach (var folder in new[] { home.Root, home.TemplatesDirectory, home.ConfigStoreDirectory, home.BucketsDirectory, home.WorkDirectory, home.LogsDirectory, home.BinDirectory })
            Directory.CreateDirectory(folder);

        WriteIfMissing(home.RegistryPath, () => DatasetRegistry.DefaultToml(Identity.OfOsAccount(RunnerSettings.Load(home))));
        WriteIfMissing(Path.Combine(home.TemplatesDirectory, DefaultTemplateName), () => DefaultTemplate);
        Runs.RunTokens.EnsureKey(home);
    }

    private static void WriteIfMissing(string path, Func<string> content)
    {
        if (File.Exists(path)) return;
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, content());
        try
        {
            // Another process may initialise the same home at the same moment; the first one wins.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
        }
    }

    private const string DefaultTemplate = """
        # Config templates: every run's config starts from the templates in this folder (in name order),
        # then the runner's own [workflow], [hail] and [storage.*] sections, then the user's -Config files.
        # Put here what every run should see by default, for example reference data locations.

        [workflow]
        sequencing_type = "genome"

        [references]
        genome_build = "GRCh38"
        """;
}
