using AnalysisRunner.Server.Problems;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Server.Hosting;

/// <summary>
/// What the server and the embedded web have in common: the services the pages and reads use, and
/// the order of the request pipeline (errors as problem details, then who the caller is, then what
/// they may do, then antiforgery for the forms). One place, so the two hosts cannot drift apart.
/// </summary>
internal static class RunnerWebParts
{
    public static void AddReadsAndProblems(IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = FrameworkProblems.AddErrorId);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddAntiforgery(options => options.Cookie.Name = "ar_antiforgery");
        services.AddSingleton<RunnerHomeAccess>();
        services.AddSingleton<RunnerReader>();
        services.AddSingleton<Runs.RunnerActions>();
        services.AddSingleton<UsageReader>();
    }

    public static void UsePipeline(WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
    }
}
