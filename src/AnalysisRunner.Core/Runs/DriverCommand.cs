using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Runs;

/// <summary>
/// Turns the user's script and its arguments into the driver's bash command. Arguments are passed
/// verbatim and in order: each becomes exactly one shell word, whatever it looks like.
/// </summary>
public static class DriverCommand
{
    /// <summary>A script inside the checkout: .ps1 through pwsh, anything else through its shebang.</summary>
    public static string ForScript(string script, IReadOnlyList<string> arguments, string? localScriptPath)
    {
        var words = new List<string>();
        if (script.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase))
        {
            words.AddRange(["pwsh", "-NoProfile", "-NonInteractive", "-File", ShellQuoting.Quote(script)]);
        }
        else
        {
            var invocation = script.Contains('/') ? script : "./" + script;
            if (localScriptPath is not null && !IsExecutable(localScriptPath))
            {
                // Git keeps the mode bit, so a non-executable script stays that way in the driver's clone:
                // run it through its own shebang interpreter instead.
                var shebang = ReadShebang(localScriptPath) ?? throw NotRunnable(script);
                words.AddRange(shebang.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ShellQuoting.Quote));
                words.Add(ShellQuoting.Quote(script));
            }
            else
            {
                words.Add(ShellQuoting.Quote(invocation));
            }
        }
        words.AddRange(arguments.Select(ShellQuoting.Quote));
        return string.Join(' ', words);
    }

    /// <summary>With -SkipRepoCheckout there is no file: the script is a command and the arguments its words.</summary>
    public static string ForCommand(string command, IReadOnlyList<string> arguments) =>
        string.Join(' ', new[] { ShellQuoting.Quote(command) }.Concat(arguments.Select(ShellQuoting.Quote)));

    public static void CheckScriptExists(string localScriptPath, string script)
    {
        if (!File.Exists(localScriptPath))
            throw new SourceException("ScriptNotFound", ErrorKind.ObjectNotFound, script,
                $"Script '{script}' was not found at {localScriptPath}. Give the path relative to the folder you run from, and commit it.");
    }

    private static bool IsExecutable(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    private static string? ReadShebang(string path)
    {
        using var reader = new StreamReader(path);
        var first = reader.ReadLine();
        return first is not null && first.StartsWith("#!", StringComparison.Ordinal) ? first[2..].Trim() : null;
    }

    private static SourceException NotRunnable(string script)
    {
        var interpreter = Path.GetExtension(script).ToLowerInvariant() switch
        {
            ".py" => "python3",
            ".r" => "Rscript",
            ".pl" => "perl",
            _ => "bash",
        };
        return new SourceException("ScriptNotExecutable", ErrorKind.InvalidArgument, script,
            $"Script '{script}' is not executable and has no shebang line, so the driver cannot tell how to run it. " +
            $"Add '#!/usr/bin/env {interpreter}' as its first line (or 'chmod +x' it) and commit.");
    }
}
