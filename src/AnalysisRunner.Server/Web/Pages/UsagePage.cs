using System.Globalization;
using AnalysisRunner.Core.Usage;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>/usage/&lt;dataset&gt;?since=: CPU- and memory-seconds and job counts by day (drawn as bars), user and batch.</summary>
internal static class UsagePage
{
    private const int ChartHeight = 160, BarWidth = 28, Gap = 6, Margin = 30;

    public static async Task<IResult> Render(HttpContext context, UsageReader usage, string dataset, DateOnly? since)
    {
        var from = since ?? DatasetUsage.DefaultSince();
        var report = await usage.ReadAsync(context.User.Identity!.Name!, dataset, from, context.RequestAborted);
        return PageLayout.Page(context, $"Usage of {dataset}", Html.Of($"""
            <form class="filter" method="get" action="{Links.Usage(dataset)}">
            <label>Since <input type="date" name="since" value="{from:yyyy-MM-dd}"></label>
            <button type="submit">Show</button>
            </form>
            <p>CPU-seconds are what each job's processes used (user + system time), memory GiB-seconds its peak
            resident memory for as long as it ran, both as the executor measured them. Where a job could not be
            measured (still running, run before usage was recorded, or on a runner that does not report it),
            what it was given is counted instead: the "allocated only" column says how many such jobs a row holds.</p>
            <h2>By day</h2>
            {Chart(report.ByDay)}
            {Table("Day", report.ByDay)}
            <h2>By user</h2>
            {Table("User", report.ByUser)}
            <h2>By batch</h2>
            {Table("Batch", report.ByBatch, key => Html.Of($"""<a href="{Links.Batch(long.Parse(key, CultureInfo.InvariantCulture))}">{key}</a>"""))}
            """));
    }

    private static Html Table(string heading, IReadOnlyList<UsageRow> rows, Func<string, Html>? link = null)
    {
        if (rows.Count == 0) return Html.Of($"""<p class="empty">No jobs ran since then.</p>""");
        var body = rows.Select(row => Html.Of($"""
            <tr><td>{(link is null ? Html.Of($"{row.Key}") : link(row.Key))}</td><td>{row.Jobs}</td><td>{row.CpuSeconds:0.#}</td><td>{row.MemoryGibSeconds:0.###}</td><td>{row.WallSeconds:0.#}</td><td class="allocated-only">{row.AllocatedOnlyJobs}</td></tr>
            """));
        return Html.Of($"""
            <table class="usage"><thead><tr><th>{heading}</th><th>Jobs</th><th>CPU-seconds</th><th>Memory GiB-seconds</th><th>Wall seconds</th><th>Allocated only</th></tr></thead>
            <tbody>{body}</tbody></table>
            """);
    }

    /// <summary>CPU-seconds per day as bars, scaled to the busiest day.</summary>
    private static Html Chart(IReadOnlyList<UsageRow> days)
    {
        if (days.Count == 0) return Html.Empty;
        var most = Math.Max(days.Max(day => day.CpuSeconds), 1e-9);
        var width = Math.Max(360, Margin * 2 + days.Count * (BarWidth + Gap));
        var height = ChartHeight + Margin * 2;
        var bars = days.Select((day, i) =>
        {
            var barHeight = (int)Math.Round(day.CpuSeconds / most * ChartHeight);
            var x = Margin + i * (BarWidth + Gap);
            var y = Margin + ChartHeight - barHeight;
            return Html.Of($"""
                <g class="bar" data-day="{day.Key}" data-cpu-seconds="{day.CpuSeconds:0.#}"><title>{day.Key}: {day.CpuSeconds:0.#} CPU-seconds, {day.Jobs} jobs</title>
                <rect x="{x}" y="{y}" width="{BarWidth}" height="{barHeight}" fill="#0969da"/>
                <text x="{x + BarWidth / 2}" y="{Margin + ChartHeight + 14}" font-size="9" text-anchor="middle">{day.Key[5..]}</text></g>
                """);
        });
        return Html.Of($"""
            <svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="CPU-seconds by day" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
            <text x="{Margin}" y="{Margin - 10}" font-size="11">CPU-seconds by day (most: {most:0.#})</text>
            <line x1="{Margin}" y1="{Margin + ChartHeight}" x2="{width - Margin}" y2="{Margin + ChartHeight}" stroke="#57606a"/>
            {bars}
            </svg>
            """);
    }
}
