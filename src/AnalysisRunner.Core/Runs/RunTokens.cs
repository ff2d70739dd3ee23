using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;

namespace AnalysisRunner.Core.Runs;

/// <summary>Turns a run capability presented by a job into the run it was issued for.</summary>
internal interface IRunCapabilityVerifier
{
    /// <summary>The logged run the token names; InvalidRunToken when it is not one the runner issued.</summary>
    Task<RunRecord> VerifyAsync(string token, CancellationToken cancellationToken = default);
}

/// <summary>
/// A run's scope as a capability the runner issues, instead of a config path anyone can write:
/// <c>AR_RUN_TOKEN = &lt;ar_guid&gt;.&lt;base64url HMAC-SHA256(key, ar_guid)&gt;</c>. The key is 32 random
/// bytes in keys/run-token.key (mode 0600), made when the home is created. The executor puts a
/// token only into the environment of the jobs of that run's batches; nothing stores tokens, and
/// the token itself holds no scope: verifying recomputes the MAC and reads the run's dataset and
/// access level from its audit-log entry (whose own hash must still match). A job that cannot read
/// keys/ or the database (a sandbox) still proves its run by presenting the token to whoever can
/// verify it: an unsandboxed job's own cmdlets in-process, later the server (a sandboxed job needs
/// none: its batch's run channel is its run). A token expires with its run: once every batch of the
/// run has finished and <see cref="Grace"/> has passed, it verifies to nothing (a token printed into a
/// log is not that run's scope for whoever reads the log later).
/// </summary>
public sealed class RunTokens(RunnerHome home, ILoggedRuns loggedRuns, Batch.IBatchStore? batches = null, TimeProvider? clock = null) : IRunCapabilityVerifier
{
    /// <summary>How long after its run's last batch finished a token is still honoured (a job's last cmdlets after its batch's end is recorded).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    public const string Variable = "AR_RUN_TOKEN";
    private const int KeyBytes = 32;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("analysis-runner run token v1\n");
    private static readonly ConcurrentDictionary<string, byte[]> Keys = new(StringComparer.Ordinal);

    /// <summary>The token for the jobs of run <paramref name="arGuid"/>; only the executor and the authority call this.</summary>
    public static string Issue(RunnerHome home, string arGuid)
    {
        if (!IsArGuid(arGuid))
            throw new AnalysisRunnerException("InvalidArGuid", ErrorKind.InvalidArgument, arGuid, $"'{arGuid}' is not an ar_guid a run token can name.");
        return arGuid + "." + Base64Url(Mac(Key(home), arGuid));
    }

    public async Task<RunRecord> VerifyAsync(string token, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 512) throw Invalid("it is empty or too long");
        var dot = token.LastIndexOf('.');
        if (dot <= 0) throw Invalid("it is not <ar_guid>.<signature>");
        var arGuid = token[..dot];
        byte[] presented;
        try
        {
            presented = IsArGuid(arGuid) ? FromBase64Url(token[(dot + 1)..]) : throw new FormatException();
        }
        catch (FormatException)
        {
            throw Invalid("it is not <ar_guid>.<signature>");
        }
        if (!CryptographicOperations.FixedTimeEquals(presented, Mac(Key(home), arGuid)))
            throw Invalid("its signature is not the runner's");
        var run = loggedRuns.Find(arGuid)
            ?? throw Invalid($"no run {arGuid} is in the audit log");
        // The entry's dataset and access level are the scope, so an entry edited since it was written grants nothing.
        AuditChain.CheckEntry(run);
        if (await FinishedAtAsync(run.ArGuid, cancellationToken).ConfigureAwait(false) is { } finished && (clock ?? TimeProvider.System).GetUtcNow() > finished + Grace)
            throw Invalid($"run {arGuid} finished at {finished:u}, and its token expired {Grace.TotalMinutes:0} minutes later");
        return run;
    }

    /// <summary>When the run's last batch finished; null while any still runs (or with no batch store to ask).</summary>
    private async Task<DateTimeOffset?> FinishedAtAsync(string arGuid, CancellationToken cancellationToken)
    {
        if (batches is null) return null;
        var all = await batches.FindBatchesAsync(new Batch.BatchQuery { ArGuid = arGuid }, cancellationToken).ConfigureAwait(false);
        // A run always has its driver batch; one with none left (removed) has ended.
        if (all.Count == 0) return DateTimeOffset.MinValue;
        return all.All(batch => batch.IsComplete) ? all.Max(batch => batch.Completed ?? batch.Created) : null;
    }

    /// <summary>The run whose token this process holds (AR_RUN_TOKEN, as inside a job), verified; null outside any run.</summary>
    public async Task<RunRecord?> CurrentAsync(CancellationToken cancellationToken = default)
    {
        var token = Environment.GetEnvironmentVariable(Variable);
        return string.IsNullOrEmpty(token) ? null : await VerifyAsync(token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the key if the home has none: random, readable by the owner only.</summary>
    internal static void EnsureKey(RunnerHome home)
    {
        if (File.Exists(home.RunTokenKeyPath)) return;
        var folder = Directory.CreateDirectory(home.KeysDirectory);
        folder.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var temporary = home.RunTokenKeyPath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        using (var file = new FileStream(temporary, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew,
                   Access = FileAccess.Write,
                   UnixCreateMode = OwnerOnly,
               }))
            file.Write(RandomNumberGenerator.GetBytes(KeyBytes));
        try
        {
            // Two processes creating one home: the first key wins, and both use it.
            File.Move(temporary, home.RunTokenKeyPath, overwrite: false);
        }
        catch (IOException) when (File.Exists(home.RunTokenKeyPath))
        {
            File.Delete(temporary);
        }
    }

    private static byte[] Key(RunnerHome home) => Keys.GetOrAdd(home.RunTokenKeyPath, _ =>
    {
        EnsureKey(home);
        var mode = File.GetUnixFileMode(home.RunTokenKeyPath);
        if ((mode & ~OwnerOnly) != 0)
            throw new AnalysisRunnerException("KeyFileTooOpen", ErrorKind.PermissionDenied, home.RunTokenKeyPath,
                $"The run-token key '{home.RunTokenKeyPath}' can be read by others (mode {Convert.ToString((int)mode, 8)}); 'chmod 600' it, since anyone who reads it can act as any run.");
        var key = File.ReadAllBytes(home.RunTokenKeyPath);
        return key.Length >= KeyBytes ? key
            : throw new AnalysisRunnerException("KeyFileInvalid", ErrorKind.InvalidData, home.RunTokenKeyPath,
                $"The run-token key '{home.RunTokenKeyPath}' is shorter than {KeyBytes} bytes; delete it only if no run is active (a new key invalidates running jobs' tokens).");
    });

    /// <summary>
    /// An HMAC with the home's run-token key over another record only the runner writes (BatchRowSeal).
    /// The purpose leads the message, and no purpose is a prefix of another's or of the tokens' own.
    /// </summary>
    internal static byte[] Sign(RunnerHome home, string purpose, string text) =>
        HMACSHA256.HashData(Key(home), Encoding.UTF8.GetBytes("analysis-runner " + purpose + " v1\n" + text));

    /// <summary>Whether <paramref name="presented"/> is the signature <paramref name="expected"/> (as text), compared in constant time.</summary>
    internal static bool SignatureMatches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented));

    private static byte[] Mac(byte[] key, string arGuid) =>
        HMACSHA256.HashData(key, Purpose.Concat(Encoding.UTF8.GetBytes(arGuid)).ToArray());

    private static bool IsArGuid(string arGuid) =>
        !string.IsNullOrWhiteSpace(arGuid) && arGuid.Length <= 128 && !arGuid.Any(c => char.IsControl(c) || c is '/' or '\\' or '.');

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        return Convert.FromBase64String(padded);
    }

    private static AnalysisRunnerException Invalid(string why) =>
        new("InvalidRunToken", ErrorKind.PermissionDenied, Variable,
            $"The run capability in {Variable} is not valid ({why}); only the executor gives jobs their run's token. " +
            "Outside a job, unset it and name the scope with -Dataset and -AccessLevel.");
}
