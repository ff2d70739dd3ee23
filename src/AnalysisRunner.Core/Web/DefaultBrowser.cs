using System.Collections;
using System.Diagnostics;

namespace AnalysisRunner.Core.Web;

/// <summary>
/// The user's browser, found as other Unix tools find it: $BROWSER (a ':'-separated list; the first
/// entry is used; "%s" in it stands for the address, else the address is its last argument), else
/// xdg-open when a desktop session is there to show a window (DISPLAY or WAYLAND_DISPLAY). With
/// neither there is no browser, and Show-* writes the address instead.
/// The address is one argument of a process started without a shell, so nothing in it is interpreted.
/// </summary>
public sealed class DefaultBrowser
{
    private readonly IReadOnlyList<string> _words;

    private DefaultBrowser(IReadOnlyList<string> words) => _words = words;

    /// <summary>The program and its arguments before the address, for messages.</summary>
    public string Command => string.Join(' ', _words);

    public static DefaultBrowser? Find() => Find(Environment.GetEnvironmentVariables());

    public static DefaultBrowser? Find(IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Variable(string name) => environment[name] as string is { Length: > 0 } value ? value : null;
        var first = Variable("BROWSER")?.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is not null) return new DefaultBrowser(first.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (Variable("DISPLAY") is null && Variable("WAYLAND_DISPLAY") is null) return null;
        return OnPath("xdg-open", Variable("PATH")) is { } xdgOpen ? new DefaultBrowser([xdgOpen]) : null;
    }

    /// <summary>
    /// Opens <paramref name="url"/> and waits for the command to return, as Python's webbrowser does
    /// for $BROWSER (a terminal browser needs the terminal until it ends; xdg-open returns at once).
    /// A command that cannot start or fails is BrowserFailed.
    /// </summary>
    public void Open(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var start = new ProcessStartInfo(_words[0]) { UseShellExecute = false };
        var placed = false;
        foreach (var word in _words.Skip(1))
        {
            placed |= word.Contains("%s", StringComparison.Ordinal);
            start.ArgumentList.Add(word.Replace("%s", url, StringComparison.Ordinal));
        }
        if (!placed) start.ArgumentList.Add(url);
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("no process was started");
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw Failed(url, $"it exited with code {process.ExitCode}");
        }
        catch (Exception cause) when (cause is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw Failed(url, cause.Message, cause);
        }
    }

    private ConfigException Failed(string url, string why, Exception? cause = null) =>
        new("BrowserFailed", ErrorKind.ResourceUnavailable, url,
            $"The browser command '{Command}' could not open {url}: {why}. Open the address yourself, or fix $BROWSER.", cause);

    private static string? OnPath(string program, string? path) =>
        (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);
}
