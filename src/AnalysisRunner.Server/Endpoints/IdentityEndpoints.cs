using AnalysisRunner.Core.Http;
using AnalysisRunner.Server.Authentication;

namespace AnalysisRunner.Server.Endpoints;

internal static class IdentityEndpoints
{
    public static void MapIdentity(this IEndpointRouteBuilder app) =>
        app.MapGet(ApiRoutes.WhoAmI, (HttpContext context) => context.Caller())
            .WithName("WhoAmI")
            .WithSummary("Who the server takes the caller to be: the user of the bearer token.")
            .Produces<CallerInfo>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
}
