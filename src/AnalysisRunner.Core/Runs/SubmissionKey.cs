using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// A client's idempotency key for one submission (the <c>Idempotency-Key</c> header), with the
/// fingerprint of the request it was first sent with. The run store keeps it with the run, in the same
/// transaction as the audit row, scoped to the run's user: the same user sending the same key again
/// gets that run back instead of a second one; another user's identical key is a different key. Keys are
/// kept as long as the run they name (the audit log is never pruned), so a retry however late still
/// finds its run.
/// </summary>
public sealed record SubmissionKey
{
    public const int MinLength = 16;
    public const int MaxLength = 128;

    private SubmissionKey(string value, string requestHash)
    {
        Value = value;
        RequestHash = requestHash;
    }

    /// <summary>The key as the client sent it.</summary>
    public string Value { get; }

    /// <summary>SHA-256 (hex) of what the request asked for: a reused key is refused when this differs.</summary>
    public string RequestHash { get; }

    /// <summary>A fresh random key (128 bits, hex): one per submission a client makes, reused only by its own retry.</summary>
    public static string NewValue() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// The header's value checked: 16 to 128 characters of letters, digits and <c>-_.:~</c>, so it is
    /// safe to log and echo, and long enough that a client that makes them at random never repeats one.
    /// </summary>
    public static string Validate(string? value)
    {
        if (value is null || value.Length is < MinLength or > MaxLength || !value.All(IsKeyCharacter))
            throw new AnalysisRunnerException("InvalidIdempotencyKey", ErrorKind.InvalidArgument, Printable(value),
                $"The Idempotency-Key header must be one value of {MinLength} to {MaxLength} letters, digits, '-', '_', '.', ':' or '~' " +
                $"(a random one per submission, such as a GUID), not '{Printable(value)}'.");
        return value;
    }

    /// <summary>The key of a submission of <paramref name="facts"/>: the facts as the server read them, so the same body always fingerprints the same.</summary>
    public static SubmissionKey ForFacts(string value, SubmissionFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return new SubmissionKey(Validate(value), Hash("submit\n" + JsonSerializer.Serialize(facts, ApiJson.Options)));
    }

    /// <summary>The key of a re-run of <paramref name="arGuid"/>: the request is the run it repeats.</summary>
    public static SubmissionKey ForRerun(string value, string arGuid)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(arGuid);
        return new SubmissionKey(Validate(value), Hash("rerun\n" + arGuid));
    }

    /// <summary>
    /// The answer to this key when the store already holds it (as <paramref name="earlier"/>, first sent
    /// with <paramref name="earlierRequestHash"/>): that run, or IdempotencyKeyReused when the key came
    /// with another request (the client reused a key it should not have; nothing is written).
    /// </summary>
    public RunRecord Replay(RunRecord earlier, string earlierRequestHash)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        if (!string.Equals(earlierRequestHash, RequestHash, StringComparison.Ordinal))
            throw new AnalysisRunnerException("IdempotencyKeyReused", ErrorKind.InvalidOperation, Value,
                $"Idempotency-Key '{Value}' was already used for another request (run {earlier.ArGuid}); send a new key with each new submission.");
        return earlier;
    }

    private static bool IsKeyCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '~';

    /// <summary>A bad key shown without control characters and cut short, since it is echoed back and logged.</summary>
    private static string Printable(string? value) =>
        value is null ? "" : new string(value.Take(MaxLength + 1).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>A run the store found by its submission key, with the fingerprint of the request that made it.</summary>
public sealed record KeyedRun(RunRecord Run, string RequestHash);
