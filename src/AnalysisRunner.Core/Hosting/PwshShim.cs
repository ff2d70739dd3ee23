namespace AnalysisRunner.Core.Hosting;

/// <summary>
/// Jobs call `pwsh` by name (a driver running a .ps1, a script calling New-Batch). On machines where
/// pwsh is a dotnet tool it is not on PATH, so the client drops a shim into the home's bin folder,
/// which the executor puts first on every job's PATH.
/// </summary>
public static class PwshShim
{
    public static void Ensure(RunnerHome home, IReadOnlyList<string> pwshCommand)
    {
        var shim = Path.Combine(home.BinDirectory, "pwsh");
        var content = "#!/bin/sh\nexec " + string.Join(' ', pwshCommand.Select(Batch.ShellQuoting.Quote)) + " \"$@\"\n";
        if (File.Exists(shim) && File.ReadAllText(shim) == content) return;
        Directory.CreateDirectory(home.BinDirectory);
        var temporary = shim + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, content);
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.Move(temporary, shim, overwrite: true);
    }
}
