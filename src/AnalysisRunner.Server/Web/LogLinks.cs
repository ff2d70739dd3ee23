using System.Text.RegularExpressions;
using AnalysisRunner.Server.Web.Pages;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// A log as a page shows it: the text, encoded, with a driver's "Submitted batch N, see &lt;url&gt;" line
/// made a link to batch N's page here. The link is built from the number alone (a path of this server),
/// never from the address the log printed, which a job could have written to point anywhere; the
/// address is only shown, and only lines whose address ends in that batch's own path are linked.
/// </summary>
internal static partial class LogLinks
{
    [GeneratedRegex(@"^(Submitted batch (\d{1,18}), see )(https?://\S+/batches/(\d{1,18}))$")]
    private static partial Regex SubmittedBatch();

    public static Html Render(string text)
    {
        var parts = new List<Html>();
        foreach (var line in text.Split('\n'))
        {
            if (parts.Count > 0) parts.Add(Html.Of($"\n"));
            var match = SubmittedBatch().Match(line);
            if (match.Success && match.Groups[2].Value == match.Groups[4].Value && long.TryParse(match.Groups[2].Value, out var batchId))
                parts.Add(Html.Of($"""{match.Groups[1].Value}<a class="batch" href="{Links.Batch(batchId)}">{match.Groups[3].Value}</a>"""));
            else
                parts.Add(Html.Of($"{line}"));
        }
        return Html.Join(parts);
    }
}
