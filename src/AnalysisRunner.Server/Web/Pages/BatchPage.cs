using System.Globalization;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>/batches/&lt;id&gt;: the batch, its run, its DAG as a picture and a table of its jobs.</summary>
internal static class BatchPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, RunnerReader reader, long batchId)
    {
        var view = await reader.GetBatchAsync(context.User.Identity!.Name!, batchId, context.RequestAborted);
        var batch = view.Batch;
        var run = view.Run is { } r
            ? Html.Of($"""
                <dt>Run</dt><dd><code>{r.ArGuid}</code> by {r.User} on <a href="{Links.AuditLog(r.Dataset, r.AccessLevel.Namespace())}">{r.Dataset}-{r.AccessLevel.Namespace()}</a>: {r.Description}</dd>
                <dt>Config</dt><dd><a href="{Links.Config(r.ArGuid)}">{r.ConfigPath}</a></dd>
                <dt>Driver batch</dt><dd><a href="{Links.Batch(r.DriverBatchId)}">{r.DriverBatchId}</a></dd>
                """)
            : Html.Of($"<dt>Run</dt><dd>none (submitted outside a run)</dd>");
        var attributes = Html.Join(batch.Attributes.OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => Html.Of($"<li><code>{pair.Key}</code> = <code>{pair.Value}</code></li>")));
        var rows = view.Jobs.Select(job => Html.Of($"""
            <tr data-job="{job.JobId}">
            <td><a href="{Links.Job(job.BatchId, job.JobId)}">{job.JobId}</a></td>
            <td>{job.Name}</td>
            <td class="state {job.State}">{job.State}{(job.Reason is { } reason ? $" ({reason})" : "")}</td>
            <td>{job.ExitCode}</td>
            <td>{Duration(job)}</td>
            <td>{DagPicture.Number(job.Cpu)}</td>
            <td>{Memory(job.MemoryBytes)}</td>
            <td class="used-cpu">{(job.CpuSeconds is { } cpu ? DagPicture.Number(cpu) + " s" : "")}</td>
            <td class="used-memory">{(job.PeakMemoryBytes is { } peak ? Memory(peak) : "")}</td>
            <td>{job.Attempt}</td>
            <td><code>{job.Image}</code></td>
            </tr>
            """));
        return PageLayout.Page(context, $"Batch {batch.Id}: {batch.Name}", Html.Of($"""
            <dl class="facts">
            <dt>State</dt><dd class="state {batch.State}" id="batch-state">{batch.State}{(batch.CancelRequested && !batch.IsComplete ? " (cancelling)" : "")}</dd>
            <dt>Jobs</dt><dd>{batch.TotalJobs} ({batch.SucceededJobs} succeeded, {batch.FailedJobs} failed, {batch.RunningJobs} running, {batch.PendingJobs} pending, {batch.CancelledJobs} cancelled)</dd>
            <dt>Created</dt><dd>{batch.Created.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</dd>
            <dt>Completed</dt><dd>{batch.Completed?.UtcDateTime:yyyy-MM-dd HH:mm:ss}</dd>
            {run}
            </dl>
            <h2>Attributes</h2>
            <ul class="attributes">{attributes}</ul>
            <h2>Jobs</h2>
            {DagPicture.Draw(view.Jobs)}
            <table class="jobs">
            <thead><tr><th>Job</th><th>Name</th><th>State</th><th>Exit code</th><th>Duration</th><th>CPU</th><th>Memory</th><th title="user + system time of the latest attempt, as measured">CPU used</th><th title="peak resident memory of the latest attempt, as measured">Peak memory</th><th>Attempts</th><th>Image</th></tr></thead>
            <tbody>{rows}</tbody>
            </table>
            """));
    }

    public static string Duration(JobInfo job) =>
        job.Started is { } started ? ((job.Ended ?? DateTimeOffset.UtcNow) - started).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "";

    public static string Memory(long bytes) =>
        bytes >= 1L << 30 ? DagPicture.Number(bytes / (double)(1L << 30)) + " GiB" : DagPicture.Number(bytes / (double)(1L << 20)) + " MiB";
}
