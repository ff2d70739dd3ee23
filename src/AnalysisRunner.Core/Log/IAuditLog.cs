using System.Data.Common;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>Filters for the audit log; all optional, combined with AND. Results are newest first.</summary>
public sealed record LogQuery
{
    public string? Dataset { get; init; }
    public string? User { get; init; }
    public AccessLevel? AccessLevel { get; init; }
    public DateTimeOffset? After { get; init; }
    public DateTimeOffset? Before { get; init; }
    public string? ArGuid { get; init; }
    public int? First { get; init; }
}

/// <summary>
/// One row per accepted run, never updated. Implementations: SqliteAuditLog (embedded), later PostgreSQL.
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends inside the caller's transaction, so the row lands with the run's config and driver batch or not at all.</summary>
    void Append(RunRecord run, DbConnection connection, DbTransaction transaction);

    /// <summary>Streams matching rows newest first; never loads the whole log.</summary>
    IEnumerable<RunRecord> Query(LogQuery query);
}
