using System.Text;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// Where run configs live, one file per ar-guid, written once. Staging writes a hidden temp
/// file first so a submission can commit its database transaction before the config appears.
/// </summary>
public sealed class ConfigStore
{
    public ConfigStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    public string PathFor(string arGuid)
    {
        if (string.IsNullOrWhiteSpace(arGuid) || arGuid.StartsWith('.') ||
            arGuid.IndexOfAny(['/', '\\', '\0']) >= 0 || arGuid.Any(char.IsControl))
            throw new ConfigException("InvalidArGuid", ErrorKind.InvalidArgument, arGuid,
                $"'{arGuid}' cannot name a config file; an ar-guid is a plain name such as a GUID, without '/' or a leading '.'.");
        return Path.Combine(Directory, arGuid + ".toml");
    }

    public StagedConfig Stage(string arGuid, TomlTable config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var finalPath = PathFor(arGuid);
        var text = TomlFiles.Serialize(config);
        System.IO.Directory.CreateDirectory(Directory);
        var tempPath = Path.Combine(Directory, $".{arGuid}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tempPath, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        catch
        {
            File.Delete(tempPath);
            throw;
        }
        return new StagedConfig(tempPath, finalPath, text);
    }
}

/// <summary>A config written under a temporary name: Commit publishes it, Dispose without Commit removes it.</summary>
public sealed class StagedConfig : IDisposable
{
    private readonly string _tempPath;
    private bool _committed;
    private bool _disposed;

    internal StagedConfig(string tempPath, string finalPath, string text)
    {
        _tempPath = tempPath;
        FinalPath = finalPath;
        Text = text;
    }

    public string FinalPath { get; }
    public string Text { get; }

    /// <summary>The hidden file the config sits in until Commit.</summary>
    public string TempPath => _tempPath;

    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed) throw new InvalidOperationException($"The config {FinalPath} has already been committed.");
        if (File.Exists(FinalPath)) throw AlreadyExists();
        try
        {
            // overwrite: false is a no-clobber move, so two runs racing for one ar-guid cannot both win.
            File.Move(_tempPath, FinalPath, overwrite: false);
        }
        catch (IOException ex) when (File.Exists(FinalPath))
        {
            throw AlreadyExists(ex);
        }
        _committed = true;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_committed)
        {
            try { File.Delete(_tempPath); }
            catch (IOException) { /* best effort: a hidden .tmp file is harmless */ }
            catch (UnauthorizedAccessException) { }
        }
    }

    private ConfigException AlreadyExists(Exception? inner = null) =>
        new("ConfigAlreadyExists", ErrorKind.InvalidOperation, FinalPath,
            $"A config already exists at '{FinalPath}' and configs are written once; submit the run with a new ar-guid.", inner);
}

/// <summary>Reads a run config back (Get-CpgConfig, the driver).</summary>
public static class ConfigReader
{
    public static TomlTable Read(string path) => TomlFiles.Read(path);
}
