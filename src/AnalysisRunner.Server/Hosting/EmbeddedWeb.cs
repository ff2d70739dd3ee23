using AnalysisRunner.Core;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Problems;
using AnalysisRunner.Server.Web;
using Microsoft.AspNetCore.Authorization;

namespace AnalysisRunner.Server.Hosting;

/// <summary>
/// The web pages over a runner home without a server: `AnalysisRunner.Server embedded` (build.ps1 -Task
/// Serve with no settings file). It listens on loopback only, has no API and no database, and knows one
/// identity, the OS account's email as the runner home maps it (Deployment.EmbeddedCaller), who signs a
/// browser in with a one-time link printed on the console, never by being on 127.0.0.1 (other OS users
/// can reach it too). Sessions are tokens of the home's own store, so Revoke-AnalysisRunnerToken ends them.
/// </summary>
public sealed class EmbeddedWeb
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    private readonly TextWriter _console;
    private Uri? _address;

    private EmbeddedWeb(string user, RunnerHome home, TextWriter console)
    {
        User = user;
        Home = home;
        _console = console;
    }

    /// <summary>The only identity: who the OS account is in this home.</summary>
    public string User { get; }

    public RunnerHome Home { get; }

    /// <param name="args">--runner:home=PATH (else AR_HOME, else ~/.analysis-runner) and --server:urls=http://127.0.0.1:PORT.</param>
    /// <param name="console">Where the sign-in links go: only whoever reads it can sign in.</param>
    public static WebApplication Build(string[] args, TextWriter console, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(EmbeddedWeb).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddCommandLine(args);
        var given = ServerSettings.From(builder.Configuration, null);
        var home = RunnerHome.Resolve(given.RunnerHome);
        var urls = builder.Configuration["server:urls"] is { Length: > 0 } asked ? asked : DefaultUrls;
        CheckLoopback(urls);
        var settings = given with { RunnerHome = home.Root, Urls = urls };
        var deployment = Deployment.Open(home);
        var web = new EmbeddedWeb(LocalUser(deployment), home, console);

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The console is for the sign-in link: the framework's start-up chatter would bury it.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
            // Only this OS account's connections (LoopbackPeer): another account's are closed unanswered.
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
                LoopbackPeer.IsThisUser(connection.RemoteEndPoint, connection.LocalEndPoint) ? next(connection) : Refuse(connection)));
        });

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(web);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<OneTimeSignIn>();
        services.AddSingleton<Core.Tokens.ITokenStore>(new LocalUserTokens(deployment.Tokens, web.User));
        services.AddAuthentication(SessionCookieHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, SessionCookieHandler>(SessionCookieHandler.SchemeName, null);
        RunnerWebParts.AddReadsAndProblems(services);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(SessionCookieHandler.SchemeName).RequireAuthenticatedUser().Build());

        configure?.Invoke(builder);

        var app = builder.Build();
        RunnerWebParts.UsePipeline(app);
        app.MapSignInLink();
        app.MapWebPages();
        return app;
    }

    /// <summary>Starts listening and prints where, who signs in, and the first sign-in link.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.StartAsync(cancellationToken);
        var web = app.Services.GetRequiredService<EmbeddedWeb>();
        web._address = ServerHost.Addresses(app)[0];
        web._console.WriteLine($"AnalysisRunner web over {web.Home.Root} listening on {web._address}; a browser signed in there is {web.User}");
        web.AnnounceLink(app.Services.GetRequiredService<OneTimeSignIn>().NewSecret());
    }

    /// <summary>Prints the link that signs the next browser in (once).</summary>
    internal void AnnounceLink(string secret) =>
        _console.WriteLine($"Sign in (one browser, once): {new Uri(_address!, SignInLinkEndpoint.Path)}?secret={secret}");

    /// <summary>
    /// Who a signed-in browser is: the OS account's email. An account the home's settings do not map
    /// has no email, and a session is a token, which needs one: said at start, not at the first sign-in.
    /// </summary>
    private static string LocalUser(Deployment deployment)
    {
        var user = deployment.EmbeddedCaller().User;
        var at = user.IndexOf('@');
        if (at <= 0 || at != user.LastIndexOf('@') || at == user.Length - 1 || user.Any(char.IsWhiteSpace))
            throw new AnalysisRunnerException("EmbeddedWebUserNotAnEmail", ErrorKind.InvalidData, deployment.Home.SettingsPath,
                $"The OS account '{Environment.UserName}' is '{user}' in this runner home, not an email, so a browser cannot sign in as it; " +
                $"map it in {deployment.Home.SettingsPath}: [identity.users] \"{Environment.UserName}\" = \"you@lab.org\".");
        return user;
    }

    private static Task Refuse(Microsoft.AspNetCore.Connections.ConnectionContext connection)
    {
        connection.Abort();
        return Task.CompletedTask;
    }

    /// <summary>Loopback only: with no server in front, a wider bind would offer the pages to the network.</summary>
    private static void CheckLoopback(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var loopback = Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
                && (uri.Host == "127.0.0.1" || uri.Host == "[::1]" || uri.Host == "localhost");
            if (!loopback)
                throw new AnalysisRunnerException("EmbeddedWebNotLoopback", ErrorKind.InvalidArgument, url,
                    $"The embedded web listens on loopback only (http://127.0.0.1:PORT), not '{url}'; to serve others, run AnalysisRunner.Server with a settings file.");
        }
    }
}
