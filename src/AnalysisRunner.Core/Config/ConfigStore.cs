using System.Text;
using AnalysisRunner.Core.Storage;
using Tomlyn.Model;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// Where run configs live, one object per ar-guid, written once, through the deployment's object
/// store: &lt;home&gt;/configs/ on the local backend (a plain path that jobs and Get-CpgConfig -Path
/// read directly), gs://cpg-config/ on GCS. A store's write is atomic (a hidden temp file renamed
/// into place locally, a resumable upload on GCS), so a config is never seen half written.
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

    /// <summary>
    /// Writes the config as it is, once: a submission writes byte for byte the config its plan showed.
    /// A second write for the same ar-guid is ConfigAlreadyExists, so two runs racing for one cannot both win.
    /// Called before the run's database transaction, never inside it: on GCS this is a network call.
    /// </summary>
    public async Task<string> PublishAsync(string arGuid, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var final = UriFor(arGuid);
        await using var content = new MemoryStream(new UTF8Encoding(false).GetBytes(text), writable: false);
        try
        {
            await _store.WriteAsync(final, content, WriteOnce, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException ex) when (ex.ErrorId == "ObjectAlreadyExists")
        {
            throw new ConfigException("ConfigAlreadyExists", ErrorKind.InvalidOperation, final.ToString(),
                $"A config already exists at '{final}' and configs are written once; submit the run with a new ar-guid.", ex);
        }
        return final.ToString();
    }

    public Task<string> PublishAsync(string arGuid, TomlTable config, CancellationToken cancellationToken = default) =>
        PublishAsync(arGuid, TomlFiles.Serialize(config ?? throw new ArgumentNullException(nameof(config))), cancellationToken);

    /// <summary>
    /// Takes back a config whose submission failed after it was published (the database transaction
    /// did not commit): the one case where a written config goes away.
    /// </summary>
    public async Task WithdrawAsync(string arGuid, CancellationToken cancellationToken = default)
    {
        var uri = UriFor(arGuid);
        if (await _store.ExistsAsync(uri, cancellationToken).ConfigureAwait(false))
            await _store.DeleteAsync(uri, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a config by what PathFor returned (or any path or URI this store holds).</summary>
    public async Task<TomlTable> ReadAsync(string pathOrUri, CancellationToken cancellationToken = default)
    {
        var uri = StorageUri.Parse(pathOrUri);
        await using var stream = await _store.OpenReadAsync(uri, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return TomlFiles.Parse(await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false), pathOrUri);
    }

    private static readonly WriteOptions WriteOnce = new() { Overwrite = false, ReadOnly = true, ContentType = "application/toml" };
}

/// <summary>Reads a run config back (Get-CpgConfig, the driver).</summary>
internal static class ConfigReader
{
    public static TomlTable Read(string path) => TomlFiles.Read(path);
}
