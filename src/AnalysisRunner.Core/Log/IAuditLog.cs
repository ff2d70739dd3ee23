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
/// One row per accepted run, never updated, each chained to the one before it by hash (AuditChain):
/// the reading side of a runner home's own log (SqliteAuditLog). Writing goes through a run store
/// (IRunLog), which appends the row in the same transaction as the run's config and driver batch;
/// no connection or transaction crosses this interface.
/// </summary>
public interface IAuditLog
{
    /// <summary>Streams matching rows newest first; never loads the whole log.</summary>
    IEnumerable<RunRecord> Query(LogQuery query);

    /// <summary>Every entry in the order it was appended (oldest first), hashes included, for AuditChain.Verify.</summary>
    IEnumerable<RunRecord> ReadChain();
}
