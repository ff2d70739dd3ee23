namespace AnalysisRunner.Core.Batch.Runners.Local.Sandbox;

/// <summary>
/// The bwrap command line for one batch's sandbox (bubblewrap 0.8, started as root): a root of its own
/// (an empty tmpfs, read-only once set up) holding only what <see cref="SandboxView"/> lists, a private /tmp
/// and HOME (tmpfs, per batch), its own /proc
/// with /proc/sys read-only, a minimal /dev; every namespace unshared (the network too, unless the view
/// shares it); no capabilities (as root, a job could otherwise unmount or remount what hides the home);
/// a session of its own; killed when the executor thread that started it goes.
/// </summary>
internal static class BubblewrapSandbox
{
    public const string LauncherName = "ar-launcher";

    /// <summary>bwrap on this machine, or null.</summary>
    public static string? Find() =>
        File.Exists("/usr/bin/bwrap") ? "/usr/bin/bwrap" : JobSpawner.FindOnPath("bwrap");

    /// <summary>The launcher built beside the executor (and the module), or null when it was not built.</summary>
    public static string? FindLauncher()
    {
        var path = Path.Combine(AppContext.BaseDirectory, LauncherName);
        return File.Exists(path) ? path : null;
    }

    public static List<string> Arguments(SandboxView view, string launcher)
    {
        // Order matters: a later mount covers an earlier one, so /tmp comes before anything bound under it.
        var arguments = new List<string> { "--tmpfs", "/tmp" };
        foreach (var (link, target) in view.Symlinks) arguments.AddRange(["--symlink", target, link]);
        foreach (var folder in view.Folders) arguments.AddRange(["--tmpfs", folder]);
        // What is outside the runner home first; then, if one of those folders holds the home, an empty
        // tmpfs over the home (so /usr or a module folder never shows it); then what is shown of the home.
        bool InHome(string path) => SandboxView.IsUnder(path, view.HomeRoot);
        // Within each part, a folder before what is under it (a read-only tmp root, then the batch's own
        // writable resource folder in it), whichever list each comes from.
        var binds = view.ReadOnly.Select(path => (Option: "--ro-bind", Source: path, Destination: path))
            .Concat(view.ReadWrite.Select(path => (Option: "--bind", Source: path, Destination: path)))
            .Concat(view.Inputs.Select(input => (Option: "--ro-bind", input.Source, input.Destination)))
            .ToList();
        IEnumerable<(string Option, string Source, string Destination)> Ordered(bool inHome) =>
            binds.Where(bind => InHome(bind.Destination) == inHome).OrderBy(bind => bind.Destination.Count(c => c == '/'));
        foreach (var bind in Ordered(inHome: false)) arguments.AddRange([bind.Option, bind.Source, bind.Destination]);
        if (view.Channel is { } channel) arguments.AddRange(["--ro-bind", channel, Runs.Channel.RunChannel.SandboxPath]);
        var hideHome = binds.Select(bind => bind.Destination).Concat(view.Folders).Append("/tmp")
            .Any(path => !InHome(path) && SandboxView.IsUnder(view.HomeRoot, path));
        if (hideHome) arguments.AddRange(["--tmpfs", view.HomeRoot]);
        foreach (var bind in Ordered(inHome: true)) arguments.AddRange([bind.Option, bind.Source, bind.Destination]);
        arguments.AddRange(["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"]);
        // The folders made to hold the binds (the home's among them) are read-only: a job writes only where it is shown read-write.
        if (hideHome) arguments.AddRange(["--remount-ro", view.HomeRoot]);
        arguments.AddRange(["--remount-ro", "/"]);
        arguments.Add("--unshare-all");
        if (view.Network) arguments.Add("--share-net");
        arguments.AddRange(["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--chdir", "/", "--", launcher]);
        return arguments;
    }
}
