namespace AnalysisRunner.Core;

/// <summary>
/// What went wrong, in terms the PowerShell layer maps one-to-one onto ErrorCategory.
/// Core stays free of System.Management.Automation, so it carries its own copy of the few categories it uses.
/// </summary>
public enum ErrorKind
{
    NotSpecified,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    ObjectNotFound,
    PermissionDenied,
    ResourceUnavailable,
    LimitsExceeded,
    OperationTimeout,
    OperationStopped,
    /// <summary>The work ran and did not succeed (a batch whose job failed).</summary>
    InvalidResult,
    /// <summary>The caller could not be identified (no token, or one that is unknown, expired or revoked).</summary>
    AuthenticationError,
}

/// <summary>
/// Base of every error Core raises on purpose. ErrorId is stable (tests and users match on it),
/// Target is the offending value, and the message says what would be right.
/// </summary>
public class AnalysisRunnerException : Exception
{
    public AnalysisRunnerException(string errorId, ErrorKind kind, object? target, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    public object? Target { get; }
}

/// <summary>A policy rule refused the request (membership, allowlist, commit on main, image, output dir…).</summary>
public sealed class PolicyViolationException(string errorId, ErrorKind kind, object? target, string message)
    : AnalysisRunnerException(errorId, kind, target, message);

/// <summary>A config file could not be read, or tried to change what it may not.</summary>
internal sealed class ConfigException(string errorId, ErrorKind kind, object? target, string message, Exception? inner = null)
    : AnalysisRunnerException(errorId, kind, target, message, inner);

/// <summary>The source (repository, commit, cwd, script) could not be captured or resolved.</summary>
internal sealed class SourceException(string errorId, ErrorKind kind, object? target, string message, Exception? inner = null)
    : AnalysisRunnerException(errorId, kind, target, message, inner);

/// <summary>A batch was refused at submit (cycle, dangling resource, impossible resources…).</summary>
internal sealed class BatchValidationException(string errorId, ErrorKind kind, object? target, string message)
    : AnalysisRunnerException(errorId, kind, target, message);

/// <summary>
/// The runner's database cannot be read as it should: its file is not a database, a page is damaged,
/// or an executor's integrity check after an unclean stop failed. Never reported as a missing batch.
/// </summary>
internal sealed class DatabaseDamagedException(string path, string detail, Exception? inner = null)
    : AnalysisRunnerException("DatabaseDamaged", ErrorKind.InvalidData, path,
        $"The runner database {path} is damaged ({detail}). Restore it from a backup; or, to start again with an empty one, " +
        $"stop the executor and move {path}, {path}-wal and {path}-shm aside (jobs' logs stay in logs/; the record of " +
        $"batches and the audit log go with the old file), then delete {path}.damaged if it is there.", inner);

/// <summary>A bucket path was malformed, missing, or outside what the run may touch.</summary>
public sealed class StorageException(string errorId, ErrorKind kind, object? target, string message, Exception? inner = null)
    : AnalysisRunnerException(errorId, kind, target, message, inner);

/// <summary>
/// The deployment cannot be used at all (the runner home, settings.toml, registry.toml): no input
/// could succeed, so a cmdlet reports it once and stops, instead of once per pipeline object. It
/// keeps the ErrorId of its cause (InvalidSettings, InvalidRegistry…), which is its inner exception.
/// </summary>
public sealed class DeploymentException(string errorId, ErrorKind kind, object? target, string message, Exception? inner = null)
    : AnalysisRunnerException(errorId, kind, target, message, inner)
{
    public static DeploymentException From(AnalysisRunnerException cause) =>
        cause as DeploymentException ?? new DeploymentException(cause.ErrorId, cause.Kind, cause.Target, cause.Message, cause);
}

/// <summary>
/// A step that needs a yes (access level full, a commit origin may not have) met a host that cannot ask,
/// or was not confirmed: nothing was written. -Force (or -Confirm:$false for full) answers in advance.
/// </summary>
public sealed class ConfirmationRequiredException(object? target, string message)
    : AnalysisRunnerException("ConfirmationRequired", ErrorKind.InvalidOperation, target, message);
