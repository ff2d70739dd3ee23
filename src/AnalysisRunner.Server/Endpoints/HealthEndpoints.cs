using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Postgres;

namespace AnalysisRunner.Server.Endpoints;

internal static class HealthEndpoints
{
    /// <summary>How long a health probe waits for PostgreSQL before calling it down.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static void MapHealth(this IEndpointRouteBuilder app) =>
        app.MapGet(ApiRoutes.Health, CheckAsync)
            .AllowAnonymous()
            .WithName("Health")
            .WithSummary("200 when the server and its database work; 503 DatabaseUnavailable when PostgreSQL is not reachable.")
            .Produces<HealthReport>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>
    /// Asks PostgreSQL every time (no cached state), so it reports 503 as soon as the database goes
    /// and 200 as soon as it is back; the data source drops dead pooled connections on failure.
    /// </summary>
    private static async Task<HealthReport> CheckAsync(PostgresDatabase database, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await database.PingAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw database.Unavailable($"did not answer within {ProbeTimeout.TotalSeconds:0} s");
        }
        return new HealthReport { Status = "healthy", Database = "reachable" };
    }
}
