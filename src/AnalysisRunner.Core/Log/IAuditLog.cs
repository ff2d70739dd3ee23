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
/// One row per accepted run, never updated, each chained to the one before it by hash (AuditChain). Implementations: SqliteAuditLog (embedded), later PostgreSQL.
/// </summary>
public interface IAuditLog
{
    /// <summary>
    /// Appends inside the caller's transaction, so the row lands with the run's config and driver batch
    /// or not at all. Reads the newest entry's hash in that transaction and chains the new one to it
    /// (AuditChain.EntryHash); returns the run as stored, hashes included.
    /// </summary>
    RunRecord Append(RunRecord run, DbConnection connection, DbTransaction transaction);

    /// <summary>Streams matching rows newest first; never loads the whole log.</summary>
    IEnumerable<RunRecord> Query(LogQuery query);

    /// <summary>Every entry in the order it was appended (oldest first), hashes included, for AuditChain.Verify.</summary>
    IEnumerable<RunRecord> ReadChain();
}
