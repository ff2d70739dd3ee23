using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Log;

/// <summary>The verdict on an audit log's chain, as Test-AnalysisLog reports it.</summary>
public sealed record AuditLogVerification
{
    public required bool Valid { get; init; }

    /// <summary>How many entries were read, oldest first.</summary>
    public required int Entries { get; init; }

    /// <summary>The hash of the newest entry: keep it elsewhere to detect a rewrite of the whole tail later.</summary>
    public string? HeadHash { get; init; }

    /// <summary>
    /// Entries a runner home holds as copies of a server's log (the runs whose driver batches it runs):
    /// links of the server's chain, not of this one, so each is checked on its own.
    /// </summary>
    public int Copies { get; init; }

    /// <summary>1 for the oldest entry; null when the chain verifies, or when what does not is a copy.</summary>
    public int? FirstAlteredPosition { get; init; }
    public string? FirstAlteredArGuid { get; init; }
    public string? Reason { get; init; }
}

/// <summary>
/// Makes the audit log tamper-evident: every entry carries
/// <c>EntryHash = SHA-256(canonical(PreviousHash, entry))</c>, PreviousHash being the entry before's
/// EntryHash (64 zeros for the first). Editing, inserting or deleting an entry breaks the chain at that
/// entry. The canonical form is defined here, not by a backend, so SQLite and a later PostgreSQL log
/// compute the same hashes (each backend only stores PreviousHash and EntryHash with the row and reads
/// the previous hash inside its append transaction). The chain is not keyed: anyone with the rows can
/// verify it, and someone who can rewrite every entry after an edit can rewrite the hashes too, which
/// only a copy of HeadHash kept elsewhere reveals.
/// </summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);
    private const string Version = "analysis-runner audit v1";

    /// <summary>The hash an entry must carry, given the hash of the entry before it.</summary>
    public static string EntryHash(string previousHash, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(previousHash);
        ArgumentNullException.ThrowIfNull(run);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            json.WriteStringValue(Version);
            json.WriteStringValue(previousHash);
            json.WriteStringValue(run.ArGuid);
            json.WriteNumberValue(run.Timestamp.ToUnixTimeMilliseconds());
            json.WriteNumberValue((int)run.Timestamp.Offset.TotalMinutes);
            json.WriteStringValue(run.User);
            json.WriteStringValue(run.Dataset);
            json.WriteStringValue(run.AccessLevel.ToConfigName());
            Text(json, run.Repository);
            Text(json, run.Commit);
            Text(json, run.Cwd);
            json.WriteStringValue(run.Script);
            Strings(json, run.ScriptArguments);
            json.WriteStringValue(run.Description);
            json.WriteStringValue(run.OutputPrefix);
            json.WriteStringValue(run.OutputDir);
            json.WriteStringValue(run.ConfigPath);
            json.WriteNumberValue(run.DriverBatchId);
            Text(json, run.Image);
            Text(json, run.Cpu?.ToString("R", CultureInfo.InvariantCulture));
            Text(json, run.Memory);
            Text(json, run.Storage);
            json.WriteBooleanValue(run.Preemptible);
            json.WriteStartArray();
            foreach (var (name, value) in run.Environment.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                Strings(json, [name, value]);
            json.WriteEndArray();
            Strings(json, run.ConfigFiles);
            json.WriteStartArray();
            foreach (var snapshot in run.ConfigSnapshots) Strings(json, [snapshot.Path, snapshot.Toml]);
            json.WriteEndArray();
            json.WriteBooleanValue(run.SkipRepoCheckout);
            Text(json, run.RerunOf);
            json.WriteEndArray();
        }
        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }

    /// <summary>Checks one entry against its own stored hashes (cheap; used before trusting an entry's scope).</summary>
    public static void CheckEntry(RunRecord run)
    {
        if (EntryProblem(run) is { } problem) throw Broken(run.ArGuid, problem);
    }

    /// <summary>Walks the log oldest first and names the first entry that does not verify.</summary>
    public static AuditLogVerification Verify(IEnumerable<RunRecord> oldestFirst)
    {
        ArgumentNullException.ThrowIfNull(oldestFirst);
        var expectedPrevious = Genesis;
        var position = 0;
        foreach (var run in oldestFirst)
        {
            position++;
            var problem = run.PreviousHash != expectedPrevious
                ? run.PreviousHash is null
                    ? "it carries no hash"
                    : "its link to the entry before it does not match: an entry was removed, inserted or re-ordered before it, or the one before it was altered"
                : EntryProblem(run);
            if (problem is not null)
                return new AuditLogVerification
                {
                    Valid = false,
                    Entries = position,
                    FirstAlteredPosition = position,
                    FirstAlteredArGuid = run.ArGuid,
                    Reason = $"Entry {position} ({run.ArGuid}) does not verify: {problem}.",
                };
            expectedPrevious = run.EntryHash!;
        }
        return new AuditLogVerification { Valid = true, Entries = position, HeadHash = position == 0 ? null : expectedPrevious };
    }

    /// <summary>
    /// Adds to a verdict on a chain the copies a runner home keeps of another store's entries: each
    /// must still hash as it did (their links are checked where that chain is kept, on the server), and
    /// where that store can be read (<paramref name="serverEntryHashes"/>: ar_guid to entry hash) it must
    /// hold the entry with that very hash. The chain is not keyed, so a row written into the home with
    /// its own hash computed hashes as well as a real copy does; only the server's log tells them apart.
    /// </summary>
    public static AuditLogVerification CheckCopies(AuditLogVerification chain, IEnumerable<RunRecord> copies,
        Func<IReadOnlyList<string>, IReadOnlyDictionary<string, string>>? serverEntryHashes = null)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(copies);
        var all = copies.ToList();
        var server = serverEntryHashes?.Invoke(all.Select(copy => copy.ArGuid).ToList());
        var count = 0;
        foreach (var copy in all)
        {
            count++;
            var problem = EntryProblem(copy)
                ?? (server is not null && (!server.TryGetValue(copy.ArGuid, out var hash) || !string.Equals(hash, copy.EntryHash, StringComparison.Ordinal))
                    ? "the server's log (the PostgreSQL database of this home's batches) holds no entry with its ar_guid and hash, so it was not copied from there"
                    : null);
            if (chain.Valid && problem is not null)
                chain = chain with
                {
                    Valid = false,
                    FirstAlteredArGuid = copy.ArGuid,
                    Reason = $"The copy of the server's entry {copy.ArGuid} does not verify: {problem}.",
                };
        }
        return chain with { Copies = count };
    }

    /// <summary>Refuses unless every entry up to and including <paramref name="arGuid"/> verifies (a re-run trusts that entry).</summary>
    public static void CheckThrough(IEnumerable<RunRecord> oldestFirst, string arGuid)
    {
        var reached = false;
        var through = oldestFirst.TakeUntil(run => reached = run.ArGuid == arGuid);
        var verdict = Verify(through);
        if (!verdict.Valid) throw Broken(verdict.FirstAlteredArGuid!, verdict.Reason!);
        // Found by a query but not in this chain: a runner home's copy of a server's entry, whose links the server keeps.
        if (!reached)
            throw new AnalysisRunnerException("RunNotInChain", ErrorKind.InvalidOperation, arGuid,
                $"Run {arGuid} is not an entry of this audit log's chain but a copy of a server's entry (its driver batch ran here); run it again through that server (Set-AnalysisRunnerServer, or AR_SERVER), whose log holds its chain.");
    }

    private static string? EntryProblem(RunRecord run) =>
        run.PreviousHash is null || run.EntryHash is null ? "it carries no hash"
        : !string.Equals(EntryHash(run.PreviousHash, run), run.EntryHash, StringComparison.Ordinal)
            ? "its contents changed since it was written (its hash no longer matches)"
            : null;

    private static AnalysisRunnerException Broken(string arGuid, string problem) =>
        new("AuditChainBroken", ErrorKind.InvalidData, arGuid,
            $"The audit log entry {arGuid} cannot be trusted: {problem.TrimEnd('.')}. Test-AnalysisLog names the first altered entry; nothing is run from an altered log.");

    private static IEnumerable<T> TakeUntil<T>(this IEnumerable<T> items, Func<T, bool> last)
    {
        foreach (var item in items)
        {
            yield return item;
            if (last(item)) yield break;
        }
    }

    private static void Text(Utf8JsonWriter json, string? value)
    {
        if (value is null) json.WriteNullValue();
        else json.WriteStringValue(value);
    }

    private static void Strings(Utf8JsonWriter json, IEnumerable<string> values)
    {
        json.WriteStartArray();
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
