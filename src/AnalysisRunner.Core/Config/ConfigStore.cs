using System.Text;
using AnalysisRunner.Core.Storage;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// Where run configs live, one object per ar-guid, written once, through the deployment's object
/// store: &lt;home&gt;/configs/ on the local backend (a plain path that jobs and Get-CpgConfig -Path
/// read directly), gs://cpg-config/ on GCS. Staging writes a hidden temp object first so a
/// submission can commit its database transaction before the config appears.
/// </summary>
public sealed class ConfigStore
{
    private readonly IObjectStore _store;

    /// <summary>A store of plain files in <paramref name="directory"/>.</summary>
    public ConfigStore(string directory)
        : this(new LocalFolderStore(directory), StorageUri.Parse(Path.GetFullPath(directory).TrimEnd('/') + "/"))
    {
    }

    public ConfigStore(IObjectStore store, StorageUri root)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentNullException.ThrowIfNull(root);
        Root = root.AsPrefix();
    }

    /// <summary>The prefix configs are written under (file:// or gs://).</summary>
    public StorageUri Root { get; }

    /// <summary>The folder of a local store, or the gs:// prefix.</summary>
    public string Directory => Root.Scheme == StorageScheme.File ? Root.LocalPath!.TrimEnd('/') : Root.ToString();

    /// <summary>Where the config of <paramref name="arGuid"/> is: an absolute path on the local backend, gs://… on GCS.</summary>
    public string PathFor(string arGuid) => UriFor(arGuid).ToString();

    public StorageUri UriFor(string arGuid)
    {
        if (string.IsNullOrWhiteSpace(arGuid) || arGuid.StartsWith('.') ||
            arGuid.IndexOfAny(['/', '\\', '\0']) >= 0 || arGuid.Any(char.IsControl))
            throw new ConfigException("InvalidArGuid", ErrorKind.InvalidArgument, arGuid,
                $"'{arGuid}' cannot name a config file; an ar-guid is a plain name such as a GUID, without '/' or a leading '.'.");
        return Root.Combine(arGuid + ".toml");
    }

    public StagedConfig Stage(string arGuid, TomlTable config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Stage(arGuid, TomlFiles.Serialize(config));
    }

    /// <summary>Stages TOML text as it is: a submission writes byte for byte the config its plan showed.</summary>
    public StagedConfig Stage(string arGuid, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var final = UriFor(arGuid);
        var temp = Root.Combine($".{arGuid}.{Guid.NewGuid():N}.tmp");
        using var content = new MemoryStream(new UTF8Encoding(false).GetBytes(text), writable: false);
        _store.WriteAsync(temp, content, StagedConfig.WriteOnce).GetAwaiter().GetResult();
        return new StagedConfig(_store, temp, final, text);
    }

    /// <summary>
    /// Takes back a config whose submission failed after it was published (the database transaction
    /// did not commit): the one case where a written config goes away.
    /// </summary>
    public void Withdraw(string arGuid)
    {
        var uri = UriFor(arGuid);
        if (_store.ExistsAsync(uri).GetAwaiter().GetResult())
            _store.DeleteAsync(uri).GetAwaiter().GetResult();
    }

    /// <summary>Reads a config by what PathFor returned (or any path or URI this store holds).</summary>
    public TomlTable Read(string pathOrUri)
    {
        var uri = StorageUri.Parse(pathOrUri);
        using var stream = _store.OpenReadAsync(uri).GetAwaiter().GetResult();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return TomlFiles.Parse(reader.ReadToEnd(), pathOrUri);
    }
}

/// <summary>A config written under a temporary name: Commit publishes it, Dispose without Commit removes it.</summary>
public sealed class StagedConfig : IDisposable
{
    internal static readonly WriteOptions WriteOnce = new() { Overwrite = false, ReadOnly = true, ContentType = "application/toml" };

    private readonly IObjectStore _store;
    private readonly StorageUri _temp;
    private readonly StorageUri _final;
    private bool _committed;
    private bool _disposed;

    internal StagedConfig(IObjectStore store, StorageUri temp, StorageUri final, string text)
    {
        _store = store;
        _temp = temp;
        _final = final;
        Text = text;
    }

    public string FinalPath => _final.ToString();
    public string Text { get; }

    /// <summary>The hidden object the config sits in until Commit.</summary>
    public string TempPath => _temp.ToString();

    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed) throw new InvalidOperationException($"The config {FinalPath} has already been committed.");
        try
        {
            // Write-once: the copy refuses to replace an existing object, so two runs racing for one ar-guid cannot both win.
            _store.CopyAsync(_temp, _final, WriteOnce).GetAwaiter().GetResult();
        }
        catch (StorageException ex) when (ex.ErrorId == "ObjectAlreadyExists")
        {
            throw AlreadyExists(ex);
        }
        _committed = true;
        RemoveTemp();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_committed) RemoveTemp();
    }

    private void RemoveTemp()
    {
        try
        {
            _store.DeleteAsync(_temp).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is StorageException or IOException or UnauthorizedAccessException)
        {
            // best effort: a hidden temp config is harmless
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
