using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local.Sandbox;

/// <summary>
/// [executor] sandbox in settings.toml, and what the local runner makes of it on this machine:
/// "auto" (the embedded default) sandboxes every batch where bwrap and the launcher are there and
/// otherwise runs jobs unsandboxed after saying so; "bubblewrap" requires the sandbox (jobs fail to
/// start with SandboxNotAvailable without it, unless allow_unsandboxed = true); "none" never sandboxes.
/// </summary>
internal static class SandboxMode
{
    public const string Auto = "auto";
    public const string Bubblewrap = "bubblewrap";
    public const string None = "none";
    public const string NotAvailableErrorId = "SandboxNotAvailable";

    private static readonly string[] Modes = [Auto, Bubblewrap, None];

    public static void Check(string mode, string settingsPath)
    {
        if (!Modes.Contains(mode, StringComparer.Ordinal))
            throw new AnalysisRunnerException("SandboxNotSupported", ErrorKind.InvalidArgument, mode,
                $"[executor] sandbox = '{mode}' in {settingsPath} is not one of: {string.Join(", ", Modes)}.");
    }

    /// <summary>What the runner does with every batch here: sandbox it, run it unsandboxed (with the reason why), or refuse its jobs (with the reason).</summary>
    public static SandboxDecision Decide(RunnerSettings settings, string? bwrap, string? launcher)
    {
        if (settings.ExecutorSandbox == None) return new SandboxDecision(SandboxUse.Unsandboxed, null);
        if (bwrap is not null && launcher is not null) return new SandboxDecision(SandboxUse.Sandboxed, null);
        var missing = bwrap is null
            ? "bubblewrap (bwrap) is not installed on this machine (Debian: apt-get install bubblewrap)"
            : $"the sandbox launcher (ar-launcher) is not beside the executor in {AppContext.BaseDirectory} (it is built with the system C compiler)";
        var allowed = settings.AllowUnsandboxed ?? settings.ExecutorSandbox == Auto;
        return allowed
            ? new SandboxDecision(SandboxUse.Unsandboxed, $"{NotAvailableErrorId}: {missing}; jobs run unsandboxed ([executor] sandbox = \"{settings.ExecutorSandbox}\", allow_unsandboxed).")
            : new SandboxDecision(SandboxUse.Refused, $"{NotAvailableErrorId}: {missing}, and [executor] sandbox = \"{settings.ExecutorSandbox}\" does not allow unsandboxed jobs (set allow_unsandboxed = true to allow them).");
    }
}

internal enum SandboxUse { Sandboxed, Unsandboxed, Refused }

/// <summary>What the runner does with batches, and, where it is not the sandbox, why (said once, in the executor's log).</summary>
internal sealed record SandboxDecision(SandboxUse Use, string? Reason);
