using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Hosting;

namespace AnalysisRunner.Server.Authentication;

/// <summary>
/// The server's token store, opened one way for the server and for its admin command, which must seal with
/// the same key: the runner home's run-token key when the settings name [runner] home, and none otherwise
/// (a server with no home runs no jobs and has no key; it warns).
/// </summary>
internal static class ServerTokenStore
{
    public static PostgresTokenStore Open(ServerSettings settings, PostgresDatabase database, TimeProvider clock) =>
        new(database, settings.RunnerHome is { } home ? TokenRowSeal.WithKeyOf(new RunnerHome(home)) : TokenRowSeal.Unkeyed, clock);

    /// <summary>The store the server's services hand out, its refusals of unsealed rows logged.</summary>
    public static ITokenStore Create(IServiceProvider services)
    {
        var settings = services.GetRequiredService<ServerSettings>();
        var store = Open(settings, services.GetRequiredService<PostgresDatabase>(), services.GetRequiredService<TimeProvider>());
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerTokenStore));
        if (settings.RunnerHome is null) logger.LogWarning(TokenRowSeal.UnkeyedWarning);
        store.UnsealedTokenPresented += token => logger.LogWarning(
            "Refused a bearer token as unknown: its api_tokens row {TokenId} (user {User}) does not carry this server's seal. " +
            "Either it was issued before tokens were sealed (schema version 6; issue it again) or it was written into the database by something other than the server",
            token.Id, token.User);
        return store;
    }
}
