using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch.Runners.Local.Sandbox;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Endpoints;
using AnalysisRunner.Server.Problems;
using AnalysisRunner.Server.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;

namespace AnalysisRunner.Server.Hosting;

/// <summary>
/// The server's composition root: settings, Kestrel, PostgreSQL (migrated before the first request),
/// bearer authentication required everywhere except /healthz and the OpenAPI document, and one
/// exception handler that turns every error into a problem detail.
/// </summary>
public static class ServerHost
{
    /// <param name="args">The command line: --settings FILE and --section:key=value overrides.</param>
    /// <param name="configure">Tests replace services here (a clock, say) before the app is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(ServerHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Only our sources: the framework's defaults would read every environment variable and appsettings.json.
        builder.Configuration.Sources.Clear();
        var settingsFile = ServerSettings.FindSettingsFile(args);
        ServerSettings.AddSources(builder.Configuration, settingsFile, args);
        var settings = ServerSettings.From(builder.Configuration, settingsFile);
        if (settings.Module is { } module) Core.Batch.ExecutorClient.UseModule(module);

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.UseUrls(settings.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
        });

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new PostgresDatabase(settings.ConnectionString ?? ""));
        services.AddSingleton(ServerTokenStore.Create);

        services.Configure<JsonOptions>(options => ApiJson.Configure(options.SerializerOptions));
        // Malformed bodies throw, so the exception handler answers them with a problem detail like any other error.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, SessionCookieHandler>(SessionCookieHandler.SchemeName, null);
        RunnerWebParts.AddReadsAndProblems(services);
        services.AddSingleton<Runs.RunDispatchRetry>();
        services.AddHostedService(provider => provider.GetRequiredService<Runs.RunDispatchRetry>());
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(BearerTokenHandler.SchemeName).RequireAuthenticatedUser().Build());
        services.AddOpenApi(options => options.AddDocumentTransformer<BearerSecurityScheme>());

        configure?.Invoke(builder);

        var app = builder.Build();
        RunnerWebParts.UsePipeline(app);
        app.MapOpenApi(ApiRoutes.OpenApi).AllowAnonymous();
        app.MapHealth();
        app.MapIdentity();
        app.MapTokens();
        app.MapReads();
        app.MapRuns();
        app.MapBatches();
        app.MapStorage();
        app.MapUsage();
        app.MapAuditLog();
        app.MapWebPages();
        return app;
    }

    /// <summary>
    /// Brings the database schema up to date (every start; a current schema applies nothing), creates
    /// the driver batch of every run a crash left logged but undispatched, then starts listening. A run
    /// whose batch cannot be made now does not keep the server down (and with it every other run and
    /// user): the others are dispatched, the failure is logged, and the retry goes on in the background.
    /// </summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        CheckSecretsHiddenFromJobs(app.Services);
        await MigrateAsync(app.Services, cancellationToken);
        await CheckDatabaseDemandsPasswordAsync(app.Services, cancellationToken);
        await SealEarlierRunsAsync(app.Services, cancellationToken);
        try
        {
            await DispatchPendingRunsAsync(app.Services, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHost)).LogWarning(error,
                "Some logged runs still have no driver batch; the server starts anyway and keeps retrying them");
            app.Services.GetRequiredService<Runs.RunDispatchRetry>().RetrySoon();
        }
        await app.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Refuses to start (SecretVisibleToJobs) while a file that lets its reader act as the server
    /// (ServerSecrets) is where a job's sandbox shows it (SecretExposure: the sandbox's own list, for the
    /// executor this server starts). Before anything else: nothing is migrated or served first.
    /// </summary>
    public static void CheckSecretsHiddenFromJobs(IServiceProvider services)
    {
        var settings = services.GetRequiredService<ServerSettings>();
        // The home as its settings name it, not opened: nothing of it is touched before the check.
        var home = settings.RunnerHome is null ? null : new Core.Hosting.RunnerHome(settings.RunnerHome);
        SecretExposure.Of(home, Core.Batch.ExecutorClient.ExecutorFolder)
            .Check(ServerSecrets.Of(settings, services.GetRequiredService<IConfiguration>(), home));
    }

    /// <summary>
    /// Refuses to serve over a database that lets anyone in (PasswordDemand): the server's, and the
    /// route its home's executor takes to its batches ([batches] database), which may name another host
    /// or role. Unless the settings say no job can reach it; then it warns on every start.
    /// </summary>
    public static async Task CheckDatabaseDemandsPasswordAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var settings = services.GetRequiredService<ServerSettings>();
        var routes = new List<string> { settings.ConnectionString ?? "" };
        if (settings.RunnerHome is not null && services.GetRequiredService<RunnerHomeAccess>().Deployment.Settings.BatchDatabase is { } batches)
            routes.Add(batches);
        foreach (var route in routes.Distinct(StringComparer.Ordinal))
        {
            if (await PasswordDemand.OpenRouteAsync(route, cancellationToken) is not { } open) continue;
            var database = PostgresDatabase.Describe(new Npgsql.NpgsqlConnectionStringBuilder(route));
            if (!settings.AllowDatabaseWithoutPassword) throw PasswordDemand.Refusal(database, open);
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHost)).LogWarning(
                "{Database} asks for no password ({Route}); serving anyway because [database] allow_without_password is true. " +
                "Any job that can reach it could act as the server", database, open);
        }
    }

    /// <summary>Runs logged before entries were sealed get their seals from the home's key, once (PostgresRunLog.SealEarlierEntriesAsync).</summary>
    public static async Task SealEarlierRunsAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        if (services.GetRequiredService<ServerSettings>() is not { RunnerHome: not null, RunsInDatabase: true }) return;
        if (services.GetRequiredService<RunnerHomeAccess>().Deployment.RunLog is not PostgresRunLog runs) return;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHost));
        var sealedCount = await runs.SealEarlierEntriesAsync(cancellationToken);
        if (sealedCount > 0) logger.LogInformation("Sealed {Count} run(s) logged before runs carried seals", sealedCount);
    }

    public static async Task<int> DispatchPendingRunsAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        if (services.GetRequiredService<ServerSettings>() is not { RunnerHome: not null, RunsInDatabase: true }) return 0;
        var deployment = services.GetRequiredService<RunnerHomeAccess>().Deployment;
        var dispatched = await deployment.RunLog.DispatchPendingAsync(cancellationToken);
        if (dispatched == 0) return 0;
        deployment.Executor.Wake();
        services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHost))
            .LogInformation("Created the driver batches of {Count} logged run(s) that had none yet", dispatched);
        return dispatched;
    }

    public static async Task<IReadOnlyList<int>> MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var database = services.GetRequiredService<PostgresDatabase>();
        var applied = await new SchemaMigrator(database).ApplyAsync(ServerSchema.Migrations, cancellationToken);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHost));
        if (applied.Count > 0) logger.LogInformation("Migrated {Database} to schema version {Version}", database.Description, applied[^1]);
        return applied;
    }

    /// <summary>The addresses Kestrel listens on, with the real port when the settings asked for port 0.</summary>
    public static IReadOnlyList<Uri> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!
            .Addresses.Select(address => new Uri(address)).ToList();
}

/// <summary>
/// Problems the framework writes itself (an unknown route, a wrong method, a body Kestrel refused
/// while the endpoint read it) get the same members as ours, so clients read every error one way.
/// </summary>
internal static class FrameworkProblems
{
    public static void AddErrorId(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Extensions.ContainsKey("errorId")) return;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var limit = context.HttpContext.RequestServices.GetRequiredService<ServerSettings>().MaxRequestBodyBytes;
        var error = status switch
        {
            404 => new AnalysisRunnerException("EndpointNotFound", ErrorKind.ObjectNotFound, null,
                $"There is no {context.HttpContext.Request.Path} on this server; {ApiRoutes.OpenApi} lists what there is."),
            405 => new AnalysisRunnerException("MethodNotAllowed", ErrorKind.InvalidArgument, context.HttpContext.Request.Method,
                $"{context.HttpContext.Request.Path} does not take {context.HttpContext.Request.Method}; {ApiRoutes.OpenApi} lists what it takes."),
            413 => RequestErrors.BodyTooLarge(limit),
            _ => new AnalysisRunnerException("HttpError" + status, ErrorStatus.FromStatus(status), null, problem.Detail ?? problem.Title ?? $"HTTP {status}"),
        };
        var ours = ProblemDocument.From(error, context.HttpContext.Request.Path);
        problem.Type = ours.Type;
        problem.Title = ours.Title;
        problem.Detail = ours.Detail;
        problem.Instance = ours.Instance;
        problem.Extensions["errorId"] = ours.ErrorId;
        problem.Extensions["kind"] = ours.Kind;
        if (ours.Target is { } target) problem.Extensions["target"] = target;
    }
}
