using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Batch.Runners;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>
/// /batches/&lt;id&gt;/jobs/&lt;n&gt;: the command as the job runs it (resources resolved), its environment,
/// image and resources, and each attempt's stdout and stderr. The latest attempt of an unfinished job
/// follows live where the browser runs the page's script (server-sent events); without it the page
/// shows the log as it was, and a reload shows more.
/// </summary>
internal static class JobPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, RunnerReader reader, long batchId, int jobId)
    {
        var view = await reader.GetJobAsync(context.User.Identity!.Name!, batchId, jobId, context.RequestAborted);
        var job = view.Job;
        var batch = view.Batch.Batch;
        var environment = new List<Html>();
        if (batch.ConfigPath is { } configPath)
        {
            var value = view.Batch.Run is { } run
                ? Html.Of($"""<a class="config" href="{Links.Config(run.ArGuid)}">{configPath}</a>""")
                : Html.Of($"{configPath}");
            environment.Add(Html.Of($"<tr><td><code>CPG_CONFIG_PATH</code></td><td>{value}</td></tr>"));
        }
        foreach (var (name, value) in job.Environment.Where(pair => pair.Key != "CPG_CONFIG_PATH").OrderBy(pair => pair.Key, StringComparer.Ordinal))
            environment.Add(Html.Of($"<tr><td><code>{name}</code></td><td><code>{value}</code></td></tr>"));
        var parents = Html.Join(job.Parents.Select(parent => Html.Of($"""<a href="{Links.Job(batchId, parent)}">{parent}</a> """)));
        var attempts = new List<Html>();
        foreach (var attempt in view.Attempts.OrderByDescending(a => a.Attempt))
        {
            var live = !job.State.IsFinished() && attempt.Attempt == job.Attempt;
            var stdout = await LogAsync(reader, batchId, jobId, attempt.Attempt, LogStream.Stdout, live, context.RequestAborted);
            var stderr = await LogAsync(reader, batchId, jobId, attempt.Attempt, LogStream.Stderr, live, context.RequestAborted);
            attempts.Add(Html.Of($"""
                <section class="attempt" data-attempt="{attempt.Attempt}">
                <h2>Attempt {attempt.Attempt}{(attempt.ExitCode is { } code ? $" (exit code {code})" : live ? " (running)" : "")}</h2>
                <h3>stdout</h3>
                {stdout}
                <h3>stderr</h3>
                {stderr}
                </section>
                """));
        }
        if (attempts.Count == 0) attempts.Add(Html.Of($"""<p class="empty">The job has not started yet; reload to see its log once it has.</p>"""));
        return PageLayout.Page(context, $"Job {jobId} of batch {batchId}: {job.Name}", Html.Of($"""
            <p><a href="{Links.Batch(batchId)}">← batch {batchId} ({batch.Name})</a></p>
            <dl class="facts">
            <dt>State</dt><dd class="state {job.State}" id="job-state">{job.State}{(job.Reason is { } reason ? $" ({reason})" : "")}</dd>
            <dt>Exit code</dt><dd>{job.ExitCode}</dd>
            <dt>Image</dt><dd><code id="image">{job.Image}</code></dd>
            <dt>Resources</dt><dd>{DagPicture.Number(job.Cpu)} CPU, {BatchPage.Memory(job.MemoryBytes)} memory</dd>
            <dt>Started</dt><dd>{job.Started?.UtcDateTime:yyyy-MM-dd HH:mm:ss}</dd>
            <dt>Ended</dt><dd>{job.Ended?.UtcDateTime:yyyy-MM-dd HH:mm:ss}</dd>
            <dt>Duration</dt><dd>{BatchPage.Duration(job)}</dd>
            <dt>Needs</dt><dd>{parents}</dd>
            </dl>
            <h2>Command</h2>
            <pre id="command">{job.Command}</pre>
            <h2>Environment</h2>
            <table class="environment"><tbody>{environment}</tbody></table>
            {attempts}
            """));
    }

    private static async Task<Html> LogAsync(RunnerReader reader, long batchId, int jobId, int attempt, LogStream stream, bool live,
        CancellationToken cancellationToken)
    {
        var log = await JobLogText.ReadAsync(reader.Logs, batchId, jobId, attempt, stream, cancellationToken);
        var name = stream == LogStream.Stdout ? "stdout" : "stderr";
        var cut = log.SkippedLines > 0 ? Html.Of($"""<p class="note">The first {log.SkippedLines} lines are not shown.</p>""") : Html.Empty;
        return live
            ? Html.Of($"""{cut}<pre class="log {name}" data-follow="{Links.LogEvents(batchId, jobId, attempt, name)}" data-offset="{log.Lines}">{LogLinks.Render(log.Text)}</pre>""")
            : Html.Of($"""{cut}<pre class="log {name}">{LogLinks.Render(log.Text)}</pre>""");
    }
}
