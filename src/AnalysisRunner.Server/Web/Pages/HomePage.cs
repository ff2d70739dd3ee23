using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>/: the dataset namespaces the caller may read, each linking to its log and usage.</summary>
internal static class HomePage
{
    public static IResult Render(HttpContext context, RunnerHomeAccess home)
    {
        var user = context.User.Identity!.Name!;
        var registry = home.Deployment.LoadRegistry();
        var items = registry.DatasetNames.Order(StringComparer.Ordinal)
            .SelectMany(dataset => new[] { "main", "test" }.Where(ns => DatasetReadAccess.MayRead(registry, user, dataset, ns))
                .Select(ns => Html.Of($"""<li><a href="{Links.AuditLog(dataset, ns)}">{dataset}-{ns}</a></li>""")))
            .ToList();
        var list = items.Count == 0
            ? Html.Of($"<p>You are a member of no dataset in this runner's registry.</p>")
            : Html.Of($"<ul class=\"datasets\">{items}</ul>");
        return PageLayout.Page(context, "Your datasets", list);
    }
}
