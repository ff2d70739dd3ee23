using AnalysisRunner.Core;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>
/// /analysis-runner/&lt;dataset&gt;-&lt;namespace&gt;: the runs of a dataset's namespace, newest first, as
/// metamist's page shows them: filter by user, dates and text (a plain GET form), keyset-paged, each
/// run with its commit, config, driver batch and sub-batches, and the command that runs it again.
/// </summary>
internal static class AuditLogPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, RunnerReader reader, string datasetNamespace,
        string? user, DateOnly? from, DateOnly? to, string? q, string? after)
    {
        var (dataset, ns) = Split(datasetNamespace);
        var page = await reader.QueryRunsAsync(context.User.Identity!.Name!, dataset, ns,
            new RunFilter { User = user, From = from, To = to, Text = q, Cursor = after }, cancellationToken: context.RequestAborted);
        var rows = new List<Html>();
        foreach (var run in page.Runs)
            rows.Add(Row(run, (await reader.RunBatchesAsync(run, context.RequestAborted)).Select(batch => batch.Id).ToList()));
        var next = page.NextCursor is { } cursor
            ? Html.Of($"""<p><a rel="next" href="{Links.AuditLog(dataset, ns)}{Query(user, from, to, q, cursor)}">Older runs →</a></p>""")
            : Html.Empty;
        var table = rows.Count == 0
            ? Html.Of($"""<p class="empty">No runs match.</p>""")
            : Html.Of($"""
                <table class="runs">
                <thead><tr><th>When (UTC)</th><th>User</th><th>Level</th><th>Description</th><th>Script</th><th>Commit</th><th>Config</th><th>Batches</th><th>Re-run</th></tr></thead>
                <tbody>{rows}</tbody>
                </table>
                """);
        return PageLayout.Page(context, $"{dataset}-{ns}: analysis-runner log", Html.Of($"""
            <form class="filter" method="get" action="{Links.AuditLog(dataset, ns)}">
            <label>User <input name="user" value="{user}"></label>
            <label>From <input type="date" name="from" value="{from:yyyy-MM-dd}"></label>
            <label>To <input type="date" name="to" value="{to:yyyy-MM-dd}"></label>
            <label>Text <input name="q" value="{q}"></label>
            <button type="submit">Filter</button>
            </form>
            {table}
            {next}
            <p><a href="{Links.Usage(dataset)}">Usage of {dataset}</a></p>
            """));
    }

    private static Html Row(RunRecord run, IReadOnlyList<long> batchIds)
    {
        var commitUrl = Links.Commit(run);
        var commit = run.Commit is null
            ? Html.Of($"(no checkout)")
            : commitUrl is null
                ? Html.Of($"<code>{run.Repository}@{run.Commit[..Math.Min(12, run.Commit.Length)]}</code>")
                : Html.Of($"""<a href="{commitUrl}"><code>{run.Repository}@{run.Commit[..12]}</code></a>""");
        var batches = Html.Join(batchIds.Select((id, i) => i == 0
            ? Html.Of($"""<a class="driver" href="{Links.Batch(id)}">driver {id}</a>""")
            : Html.Of($""", <a class="sub-batch" href="{Links.Batch(id)}">{id}</a>""")));
        var script = string.Join(' ', new[] { run.Script }.Concat(run.ScriptArguments.Select(Quote)));
        return Html.Of($"""
            <tr data-ar-guid="{run.ArGuid}">
            <td>{run.Timestamp.UtcDateTime:yyyy-MM-dd HH:mm:ss}</td>
            <td>{run.User}</td>
            <td>{run.AccessLevel.ToConfigName()}</td>
            <td class="description">{run.Description}</td>
            <td><code>{script}</code></td>
            <td>{commit}</td>
            <td><a class="config" href="{Links.Config(run.ArGuid)}">config</a></td>
            <td>{batches}</td>
            <td><code>Get-AnalysisLog -ArGuid {Quote(run.ArGuid)} | Submit-Analysis</code></td>
            </tr>
            """);
    }

    /// <summary>"fewgenomes-test" is dataset fewgenomes, namespace test; dataset names may have dashes themselves.</summary>
    public static (string Dataset, string Namespace) Split(string datasetNamespace)
    {
        var dash = datasetNamespace.LastIndexOf('-');
        var ns = dash > 0 ? datasetNamespace[(dash + 1)..] : "";
        if (ns is not ("test" or "main"))
            throw new AnalysisRunnerException("InvalidDatasetNamespace", ErrorKind.InvalidArgument, datasetNamespace,
                $"'{datasetNamespace}' is not <dataset>-<namespace>; the namespace is test or main, as in fewgenomes-test.");
        return (datasetNamespace[..dash], ns);
    }

    private static string Query(string? user, DateOnly? from, DateOnly? to, string? q, string after)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) parts.Add(name + "=" + Uri.EscapeDataString(value));
        }
        Add("user", user);
        Add("from", from?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Add("to", to?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Add("q", q);
        Add("after", after);
        return "?" + string.Join('&', parts);
    }

    /// <summary>PowerShell's single-quoted literal: shown to be copied, so it must paste back as the same words.</summary>
    private static string Quote(string word) => "'" + word.Replace("'", "''") + "'";
}
