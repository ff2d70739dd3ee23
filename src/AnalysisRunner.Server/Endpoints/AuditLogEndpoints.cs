using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Test-AnalysisLog over the server: the chain of the server's store of record verified where it is
/// kept. Admins only: the chain spans every dataset, and where it breaks names a run of any of them.
/// </summary>
internal static class AuditLogEndpoints
{
    public static void MapAuditLog(this IEndpointRouteBuilder app) =>
        app.MapGet(ApiRoutes.AuditLogVerification, async (HttpContext context, RunnerHomeAccess home) =>
            {
                context.RequireAdmin("verify the whole audit log");
                return await AuditLogCheck.VerifyAsync(home.Deployment, context.RequestAborted);
            })
            .WithTags("Runs and batches").WithName("VerifyAuditLog")
            .WithSummary("The audit log's hash chain verified (admin only): entries, head hash, and the first entry altered, removed or inserted.")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
}
