using AnalysisRunner.Core.Config;

namespace AnalysisRunner.Core.Client;

/// <summary>
/// The user's own client settings (not the runner home, which may be shared): which server to use,
/// in $XDG_CONFIG_HOME/analysis-runner/client.toml (else ~/.config/…), and its token alone in the
/// file "token" beside it, mode 600 from the moment it exists. AR_SERVER and AR_TOKEN override both.
/// </summary>
public sealed class ClientSettings
{
    public const string ServerVariable = "AR_SERVER";
    public const string TokenVariable = "AR_TOKEN";

    public ClientSettings(string folder) => Folder = Path.GetFullPath(folder);

    public string Folder { get; }
    public string SettingsPath => Path.Combine(Folder, "client.toml");
    public string TokenPath => Path.Combine(Folder, "token");

    public static ClientSettings ForCurrentUser()
    {
        var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (string.IsNullOrWhiteSpace(configHome))
            configHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return new ClientSettings(Path.Combine(configHome, "analysis-runner"));
    }

    /// <summary>The stored server, if any.</summary>
    public Uri? ReadServer()
    {
        if (!File.Exists(SettingsPath)) return null;
        var table = TomlFiles.Read(SettingsPath);
        foreach (var key in table.Keys)
            if (key != "server")
                throw new ConfigException("InvalidClientSettings", ErrorKind.InvalidData, SettingsPath,
                    $"The client settings '{SettingsPath}' have an unknown key '{key}'; the only key is server.");
        return table.TryGetValue("server", out var server) && server is string text ? ServerConnection.Parse(text) : null;
    }

    public string? ReadToken() => File.Exists(TokenPath) ? File.ReadAllText(TokenPath).Trim() : null;

    /// <summary>Stores the server and, when given, its token. The token file is created 600, never widened later.</summary>
    public void Save(Uri server, string? token)
    {
        ServerConnection.Validate(server);
        Directory.CreateDirectory(Folder);
        File.SetUnixFileMode(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        WriteReplacing(SettingsPath, $"server = \"{server.AbsoluteUri.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"\n",
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        if (token is not null) WriteReplacing(TokenPath, token.Trim() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Forgets the stored server and token.</summary>
    public void Clear()
    {
        File.Delete(SettingsPath);
        File.Delete(TokenPath);
    }

    /// <summary>
    /// Which server, if any: an explicit address wins, then AR_SERVER, then the stored one. The token
    /// is AR_TOKEN, else the stored one, but the stored token only ever goes to the stored server:
    /// -Server elsewhere must not hand it to another machine.
    /// </summary>
    public ServerConnection? Resolve(string? explicitServer = null)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(ServerVariable);
        var stored = ReadServer();
        var server = !string.IsNullOrWhiteSpace(explicitServer) ? ServerConnection.Parse(explicitServer)
            : !string.IsNullOrWhiteSpace(fromEnvironment) ? ServerConnection.Parse(fromEnvironment)
            : stored;
        if (server is null) return null;
        var token = Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrWhiteSpace(token) && stored is not null && Uri.Compare(stored, server, UriComponents.SchemeAndServer,
                UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            token = ReadToken();
        return new ServerConnection(server, token);
    }

    private static void WriteReplacing(string path, string content, UnixFileMode mode)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode,
               }))
        using (var writer = new StreamWriter(stream))
            writer.Write(content);
        File.Move(temporary, path, overwrite: true);
    }
}
