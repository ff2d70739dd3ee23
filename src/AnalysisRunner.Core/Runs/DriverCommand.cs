using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Git;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// Turns the script a commit holds, and its arguments, into the driver's bash command. Arguments are
/// passed verbatim and in order: each becomes exactly one shell word, whatever it looks like.
/// </summary>
public static class DriverCommand
{
    /// <summary>A file of the commit: .ps1 through pwsh; an executable blob by itself; otherwise through the blob's "#!" line.</summary>
    public static string ForScript(CommitScript script, IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(script);
        var words = new List<string>();
        if (script.IsPowerShell)
            words.AddRange(["pwsh", "-NoProfile", "-NonInteractive", "-File", ShellQuoting.Quote(script.Invocation)]);
        else if (script.IsExecutable)
            words.Add(ShellQuoting.Quote(script.Invocation));
        else
        {
            // Git keeps the mode bit, so a non-executable blob is not executable in the driver's clone either.
            words.AddRange(script.Shebang!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ShellQuoting.Quote));
            words.Add(ShellQuoting.Quote(script.Invocation));
        }
        words.AddRange(arguments.Select(ShellQuoting.Quote));
        return string.Join(' ', words);
    }

    /// <summary>With -SkipRepoCheckout there is no file: the script is a command and the arguments its words.</summary>
    public static string ForCommand(string command, IReadOnlyList<string> arguments) =>
        string.Join(' ', new[] { ShellQuoting.Quote(command) }.Concat(arguments.Select(ShellQuoting.Quote)));
}
