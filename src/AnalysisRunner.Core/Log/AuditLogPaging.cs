using System.Globalization;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>
/// Keyset paging over the audit log, newest first: the cursor is (timestamp in ms, position among the
/// runs of that millisecond), so the next page starts right after the last run shown whatever was
/// appended since. The position counts every run the query matches, shown or not, so a filter applied
/// after the query (what a caller may read) cannot shift it.
/// </summary>
public static class AuditLogPaging
{
    public const int DefaultPageSize = 100;
    public const int LargestPageSize = 1000;

    public static async Task<LogPage> PageAsync(IRunLog log, LogQuery query, string? cursor, Func<RunRecord, bool>? visible = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.First ?? DefaultPageSize, 1, LargestPageSize);
        var (beforeMs, skipAtBoundary) = ParseCursor(cursor);
        var boundary = beforeMs is { } ms0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms0 + 1) : (DateTimeOffset?)null;
        var scan = query with
        {
            First = null,
            Before = query.Before is null ? boundary : boundary is null ? query.Before : query.Before < boundary ? query.Before : boundary,
        };
        var page = new List<RunRecord>(pageSize);
        long? currentMs = null;
        int position = 0, lastPosition = 0;
        await foreach (var run in log.QueryAsync(scan, cancellationToken).ConfigureAwait(false))
        {
            var ms = run.Timestamp.ToUnixTimeMilliseconds();
            position = ms == currentMs ? position + 1 : 1;
            currentMs = ms;
            if (ms == beforeMs && position <= skipAtBoundary) continue;
            if (visible is not null && !visible(run)) continue;
            if (page.Count == pageSize)
                return new LogPage(page, string.Create(CultureInfo.InvariantCulture, $"{page[^1].Timestamp.ToUnixTimeMilliseconds()}.{lastPosition}"));
            page.Add(run);
            lastPosition = position;
        }
        return new LogPage(page, null);
    }

    private static (long? BeforeMs, int Skip) ParseCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return (null, 0);
        var parts = cursor.Split('.');
        if (parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var skip))
            return (ms, skip);
        throw new AnalysisRunnerException("InvalidCursor", ErrorKind.InvalidArgument, cursor,
            $"'{cursor}' is not a page cursor; pass the NextCursor of the page before (it looks like 1764950000000.1).");
    }
}
