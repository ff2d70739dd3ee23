namespace AnalysisRunner.Core.Client;

/// <summary>A server to talk to and the bearer token to send it (null: ask anonymously, e.g. for health).</summary>
public sealed record ServerConnection
{
    public ServerConnection(Uri server, string? token)
    {
        Server = Validate(server);
        Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    public Uri Server { get; }
    public string? Token { get; }

    /// <summary>Never the token: records print themselves in errors and logs.</summary>
    public override string ToString() => Server.ToString();

    /// <summary>
    /// An absolute http(s) URI. Plain http only to this machine: a bearer token sent in clear text
    /// over a network is a token given away.
    /// </summary>
    public static Uri Validate(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!server.IsAbsoluteUri || server.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(server.UserInfo))
            throw new AnalysisRunnerException("InvalidServerUri", ErrorKind.InvalidArgument, server.OriginalString,
                $"'{server.OriginalString}' is not a server address; give one like https://runner.lab.org or http://127.0.0.1:5080 (no user or password in it).");
        if (server.Scheme == "http" && !server.IsLoopback)
            throw new AnalysisRunnerException("InsecureServerUri", ErrorKind.InvalidArgument, server.OriginalString,
                $"'{server.OriginalString}' is plain http to another machine, which would send your token in clear text; use https " +
                "(the server's TLS settings are in its README section).");
        return server;
    }

    public static Uri Parse(string text) =>
        Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri)
            ? Validate(uri)
            : throw new AnalysisRunnerException("InvalidServerUri", ErrorKind.InvalidArgument, text,
                $"'{text}' is not a server address; give one like https://runner.lab.org.");
}
