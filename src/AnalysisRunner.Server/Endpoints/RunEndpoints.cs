using System.ComponentModel;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Runs;
using Microsoft.AspNetCore.Mvc;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Submitting runs and reading the audit log. The body of a submission is facts only
/// (<see cref="SubmissionFacts"/>, unknown members refused, so a body naming a user is a 400, never
/// a user): the caller is the token's, and the server plans from its own clone of the allowlisted remote.
/// </summary>
internal static class RunEndpoints
{
    private const string KeyDescription =
        "Optional. A random key for this one submission (16-128 of A-Z a-z 0-9 - _ . : ~), resent unchanged on a retry: " +
        "the same user sending it again gets the run it made (201, the same ar_guid and driver batch) instead of a second run; " +
        "with another request it is 409 IdempotencyKeyReused; malformed, 400 InvalidIdempotencyKey. Keys are scoped per user and kept with their run.";

    public static void MapRuns(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("").WithTags("Runs")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        runs.MapPost(RunRoutes.Runs, async (HttpContext context, RunnerActions actions,
                [FromHeader(Name = ApiHeaders.IdempotencyKey), Description(KeyDescription)] string? idempotencyKey) =>
            {
                var run = await actions.SubmitAsync(await ReadFactsAsync(context), idempotencyKey, CallerOf(context), context.RequestAborted);
                return Results.Created($"{RunRoutes.Runs}?arGuid={Uri.EscapeDataString(run.ArGuid)}", run);
            })
            .Accepts<SubmissionFacts>("application/json").Produces<RunRecord>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("SubmitRun").WithSummary("Submits a run from the facts a client captured; the caller is the token's user.");
        runs.MapPost(RunRoutes.PlanRun, async (HttpContext context, RunnerActions actions) =>
                RunPlanDocument.From(await actions.PlanAsync(await ReadFactsAsync(context), CallerOf(context))))
            .Accepts<SubmissionFacts>("application/json")
            .WithName("PlanRun").WithSummary("What submitting these facts would do (every check, the config, the driver's command); nothing is written.");
        runs.MapPost("/api/v1/runs/{arGuid}/rerun", async (HttpContext context, RunnerActions actions, string arGuid,
                [FromHeader(Name = ApiHeaders.IdempotencyKey), Description(KeyDescription)] string? idempotencyKey) =>
            {
                var run = await actions.RerunAsync(arGuid, idempotencyKey, CallerOf(context), context.RequestAborted);
                return Results.Created($"{RunRoutes.Runs}?arGuid={Uri.EscapeDataString(run.ArGuid)}", run);
            })
            .Produces<RunRecord>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("RerunRun").WithSummary("Runs a logged run again, exactly, as a new run of the caller.");
        runs.MapPost("/api/v1/runs/{arGuid}/rerun/plan", async (HttpContext context, RunnerActions actions, string arGuid) =>
                RunPlanDocument.From(await actions.PlanRerunAsync(arGuid, CallerOf(context), context.RequestAborted)))
            .WithName("PlanRerun").WithSummary("What running a logged run again would do; nothing is written.");
        runs.MapGet(RunRoutes.Runs, (HttpContext context, RunnerActions actions, string? dataset, string? user, string? accessLevel,
                DateTimeOffset? after, DateTimeOffset? before, string? arGuid, int? first, string? cursor) =>
                actions.QueryLogAsync(context.Caller().User, new LogQuery
                {
                    Dataset = dataset, User = user, AccessLevel = accessLevel is null ? null : AccessLevelNames.Parse(accessLevel),
                    After = after, Before = before, ArGuid = arGuid, First = first,
                }, cursor, context.RequestAborted))
            .Produces<LogPage>()
            .WithName("QueryAuditLog").WithSummary("Runs the caller may read, newest first, a page at a time (?cursor= is the nextCursor of the page before).");
        runs.MapPost("/api/v1/runs/{arGuid}/cancel", async (HttpContext context, RunnerActions actions, string arGuid) =>
                await actions.CancelRunAsync(context.Caller().User, arGuid, context.RequestAborted))
            .Produces<CancelledBatches>()
            .WithName("CancelRun").WithSummary("Cancels a run: its driver batch first (one not yet created never is: driverBatchWithheld), then every batch it submitted.");
    }

    private static Caller CallerOf(HttpContext context)
    {
        var caller = context.Caller();
        return new Caller(caller.User, $"token {caller.TokenId}");
    }

    /// <summary>The body as facts; Kestrel's body limit applies while it is read (413 RequestBodyTooLarge).</summary>
    private static async Task<SubmissionFacts> ReadFactsAsync(HttpContext context)
    {
        if (context.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new AnalysisRunnerException("UnsupportedMediaType", ErrorKind.InvalidArgument, context.Request.ContentType,
                "A submission is a JSON body; send it as application/json.");
        using var reader = new StreamReader(context.Request.Body);
        return SubmissionFacts.FromJson(await reader.ReadToEndAsync(context.RequestAborted));
    }
}
