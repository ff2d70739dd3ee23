using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Usage;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Get-AnalysisUsage over the server: the usage page's figures as JSON, from the same query
/// (UsageReader), so the page and the cmdlet never disagree. Counts the namespaces the caller may
/// read; a dataset where that is none, or one the registry does not know, is 403 NotADatasetMember.
/// A first day in the future or further back than [usage] max_days is 400 (UsageWindow).
/// </summary>
internal static class UsageEndpoints
{
    public static void MapUsage(this IEndpointRouteBuilder app) =>
        app.MapGet(RunRoutes.UsageTemplate, async (HttpContext context, UsageReader usage, string dataset, DateOnly? since, UsageGrouping? by) =>
            {
                var report = await usage.ReadAsync(context.Caller().User, dataset, since ?? DatasetUsage.DefaultSince(), context.RequestAborted);
                return (by ?? UsageGrouping.Day) switch
                {
                    UsageGrouping.User => report.ByUser,
                    UsageGrouping.Batch => report.ByBatch,
                    _ => report.ByDay,
                };
            })
            .WithTags("Usage").WithName("GetUsage")
            .WithSummary("What a dataset's runs used since a day (default 30 days ago; at most [usage] max_days back, 366 unless set), by Day, User or Batch.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
}
