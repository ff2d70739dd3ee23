using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// Facts that reach an authority over the wire name their commit by its full sha. In the embedded
/// mode the user's own checkout turns HEAD, a branch or a short sha into one before the authority sees
/// it; a remote client that sends anything else asks the server to pick a commit for it (a branch
/// moves; a short sha can become ambiguous), which is not what a reviewed run is.
/// </summary>
public static class FullCommitRule
{
    public static void Check(SubmissionFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Commit is not { } commit) return;
        if (commit.Length == 40 && commit.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f')) return;
        throw new PolicyViolationException("FullCommitRequired", ErrorKind.InvalidArgument, commit,
            $"'{commit}' is not a full commit sha; a server runs exactly the commit named by its 40 lowercase hex digits (git rev-parse {commit} gives it).");
    }
}
