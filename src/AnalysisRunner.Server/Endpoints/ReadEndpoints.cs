using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Web;
using AnalysisRunner.Server.Web.Pages;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>A job's attempt as the API shows it: how it ended and what it wrote (the end of each log, as the page shows it).</summary>
public sealed record AttemptLog(int Attempt, int? ExitCode, string Stdout, string Stderr);

public sealed record JobDetail(JobInfo Job, IReadOnlyList<AttemptLog> Attempts);

/// <summary>
/// The reads the pages make, as JSON for scripts, with the same checks (RunnerReader): the caller of
/// the bearer token must be a member of the dataset namespace a run belongs to (403 NotADatasetMember).
/// </summary>
internal static class ReadEndpoints
{
    public const string Runs = "/api/v1/datasets/{dataset}/{ns}/runs";
    public const string Batch = "/api/v1/batches/{batchId:long}";
    public const string Job = "/api/v1/batches/{batchId:long}/jobs/{jobId:int}";
    public const string Config = "/api/v1/runs/{arGuid}/config";

    public static void MapReads(this IEndpointRouteBuilder app)
    {
        var reads = app.MapGroup("").WithTags("Runs and batches")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        reads.MapGet(Runs, (HttpContext context, RunnerReader reader, string dataset, string ns,
                string? user, DateOnly? from, DateOnly? to, string? q, string? after) =>
            reader.QueryRunsAsync(context.Caller().User, dataset, ns, new RunFilter { User = user, From = from, To = to, Text = q, Cursor = after },
                cancellationToken: context.RequestAborted))
            .WithName("QueryRuns").WithSummary("Runs of a dataset's namespace (test or main), newest first; ?after= is the nextCursor of the page before.");
        reads.MapGet(Batch, async (HttpContext context, RunnerReader reader, long batchId) =>
            {
                var view = await reader.GetBatchAsync(context.Caller().User, batchId, context.RequestAborted);
                return new BatchDetail(view.Batch, view.Run, view.Jobs);
            })
            .WithName("GetBatchDetail").WithSummary("A batch, its run and its jobs.");
        reads.MapGet(Job, async (HttpContext context, RunnerReader reader, long batchId, int jobId) =>
            {
                var view = await reader.GetJobAsync(context.Caller().User, batchId, jobId, context.RequestAborted);
                var attempts = new List<AttemptLog>();
                foreach (var attempt in view.Attempts)
                    attempts.Add(new AttemptLog(attempt.Attempt, attempt.ExitCode,
                        (await JobLogText.ReadAsync(reader.Logs, batchId, jobId, attempt.Attempt, LogStream.Stdout, context.RequestAborted)).Text,
                        (await JobLogText.ReadAsync(reader.Logs, batchId, jobId, attempt.Attempt, LogStream.Stderr, context.RequestAborted)).Text));
                return new JobDetail(view.Job, attempts);
            })
            .WithName("GetJobDetail").WithSummary("A job and each attempt's exit code and logs (their last 20,000 lines).");
        reads.MapGet(Config, async (HttpContext context, RunnerReader reader, string arGuid) =>
            {
                var run = await reader.GetRunAsync(context.Caller().User, arGuid, context.RequestAborted);
                var toml = await reader.ReadConfigTextAsync(run, context.RequestAborted);
                return new ConfigDetail(run.ArGuid, toml, ConfigPage.Provenance(Core.Config.TomlFiles.Parse(toml, run.ConfigPath), run));
            })
            .WithName("GetRunConfig").WithSummary("A run's config and which file set each key.");
    }
}
