using System.Globalization;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>
/// A batch's DAG as an SVG: one column per depth (the longest chain of parents before a job), jobs as
/// boxes coloured by state and linked to their pages, an arrow from each parent (the job whose resource
/// it reads, or that it depends on). Drawn on the server, so it needs no script.
/// </summary>
internal static class DagPicture
{
    private const int BoxWidth = 170, BoxHeight = 34, ColumnGap = 60, RowGap = 14, Margin = 10;

    public static string Colour(JobState state) => state switch
    {
        JobState.Succeeded => "#2da44e",
        JobState.Failed => "#cf222e",
        JobState.Running => "#0969da",
        JobState.Cancelled => "#8c959f",
        JobState.Ready => "#d4a72c",
        _ => "#eac54f",
    };

    public static Html Draw(IReadOnlyList<JobInfo> jobs)
    {
        if (jobs.Count == 0) return Html.Empty;
        var byId = jobs.ToDictionary(job => job.JobId);
        var depth = new Dictionary<int, int>();
        int Depth(int id)
        {
            if (depth.TryGetValue(id, out var known)) return known;
            depth[id] = 0;   // a cycle cannot be stored (DagValidator), but never recurse forever on bad data
            var parents = byId.TryGetValue(id, out var job) ? job.Parents.Where(byId.ContainsKey) : [];
            return depth[id] = parents.Select(parent => Depth(parent) + 1).DefaultIfEmpty(0).Max();
        }
        foreach (var job in jobs) Depth(job.JobId);
        var columns = jobs.GroupBy(job => depth[job.JobId]).OrderBy(group => group.Key).ToList();
        var position = new Dictionary<int, (int X, int Y)>();
        foreach (var column in columns)
        {
            var row = 0;
            foreach (var job in column.OrderBy(job => job.JobId))
                position[job.JobId] = (Margin + column.Key * (BoxWidth + ColumnGap), Margin + row++ * (BoxHeight + RowGap));
        }
        var width = Margin * 2 + columns.Count * (BoxWidth + ColumnGap) - ColumnGap;
        var height = Margin * 2 + columns.Max(column => column.Count()) * (BoxHeight + RowGap) - RowGap;

        var edges = jobs.SelectMany(job => job.Parents.Where(position.ContainsKey).Select(parent =>
        {
            var (x1, y1) = position[parent];
            var (x2, y2) = position[job.JobId];
            return Html.Of($"""<line class="edge" data-from="{parent}" data-to="{job.JobId}" x1="{x1 + BoxWidth}" y1="{y1 + BoxHeight / 2}" x2="{x2 - 4}" y2="{y2 + BoxHeight / 2}" stroke="#57606a" marker-end="url(#arrow)"/>""");
        }));
        var boxes = jobs.Select(job =>
        {
            var (x, y) = position[job.JobId];
            var label = job.Name.Length > 22 ? job.Name[..21] + "…" : job.Name;
            return Html.Of($"""
                <a href="{Links.Job(job.BatchId, job.JobId)}"><g class="job" data-job="{job.JobId}" data-state="{job.State}">
                <title>{job.JobId}: {job.Name} ({job.State})</title>
                <rect x="{x}" y="{y}" width="{BoxWidth}" height="{BoxHeight}" rx="5" fill="{Colour(job.State)}" fill-opacity="0.25" stroke="{Colour(job.State)}" stroke-width="2"/>
                <text x="{x + 8}" y="{y + 21}" font-size="12" fill="#1d232a">{job.JobId}. {label}</text>
                </g></a>
                """);
        });
        return Html.Of($"""
            <svg class="dag" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Jobs of the batch and what each needs" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
            <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#57606a"/></marker></defs>
            {edges}
            {boxes}
            </svg>
            """);
    }

    public static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
