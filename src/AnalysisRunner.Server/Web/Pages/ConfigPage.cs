using AnalysisRunner.Core;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Runs;
using Tomlyn.Model;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>
/// /configs/&lt;ar_guid&gt;: the run's config as its jobs read it (CPG_CONFIG_PATH), and for each key
/// which file set it: the last of the user's config files (as the run kept them) that has the key,
/// else the runner (its templates and the run's own sections).
/// </summary>
internal static class ConfigPage
{
    public const string RunnerSource = "the runner (templates and run sections)";

    public static async Task<IResult> RenderAsync(HttpContext context, RunnerReader reader, string arGuid)
    {
        var run = await reader.GetRunAsync(context.User.Identity!.Name!, arGuid, context.RequestAborted);
        var text = await reader.ReadConfigTextAsync(run, context.RequestAborted);
        var provenance = Provenance(TomlFiles.Parse(text, run.ConfigPath), run);
        var rows = provenance.Select(pair => Html.Of($"""<tr><td><code>{pair.Key}</code></td><td>{pair.Value}</td></tr>"""));
        var files = run.ConfigFiles.Count == 0
            ? Html.Of($"<p>The run gave no config files of its own.</p>")
            : Html.Of($"<ol>{run.ConfigFiles.Select(file => Html.Of($"<li><code>{file}</code></li>"))}</ol>");
        return PageLayout.Page(context, $"Config of run {run.ArGuid}", Html.Of($"""
            <dl class="facts">
            <dt>Run</dt><dd>{run.Description} by {run.User} on <a href="{Links.AuditLog(run.Dataset, run.AccessLevel.Namespace())}">{run.Dataset}-{run.AccessLevel.Namespace()}</a></dd>
            <dt>Driver batch</dt><dd><a href="{Links.Batch(run.DriverBatchId)}">{run.DriverBatchId}</a></dd>
            <dt>Stored at</dt><dd><code>{run.ConfigPath}</code></dd>
            </dl>
            <h2>TOML</h2>
            <pre id="config-toml">{text}</pre>
            <h2>Where each key came from</h2>
            <p>User config files, merged in this order (a later file wins):</p>
            {files}
            <table class="provenance"><thead><tr><th>Key</th><th>Set by</th></tr></thead><tbody>{rows}</tbody></table>
            """));
    }

    /// <summary>Every leaf key of the merged config (dotted), with the source that set it.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Provenance(TomlTable merged, RunRecord run)
    {
        var setBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var snapshot in run.ConfigSnapshots)
        {
            TomlTable table;
            try { table = TomlFiles.Parse(snapshot.Toml, snapshot.Path); }
            catch (AnalysisRunnerException) { continue; }   // the run merged it, so it parsed then; a parser change must not break the page
            foreach (var key in Leaves(table, "")) setBy[key] = snapshot.Path;
        }
        return Leaves(merged, "").Select(key => new KeyValuePair<string, string>(key, setBy.GetValueOrDefault(key, RunnerSource))).ToList();
    }

    private static IEnumerable<string> Leaves(TomlTable table, string prefix)
    {
        foreach (var (key, value) in table)
        {
            var dotted = prefix + key;
            if (value is TomlTable inner)
                foreach (var leaf in Leaves(inner, dotted + ".")) yield return leaf;
            else
                yield return dotted;
        }
    }
}
