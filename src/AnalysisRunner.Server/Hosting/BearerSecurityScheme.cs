using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AnalysisRunner.Server.Hosting;

/// <summary>Tells readers of the OpenAPI document that every operation but health takes a bearer token.</summary>
internal sealed class BearerSecurityScheme : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A token from New-AnalysisRunnerToken (or the server's `token issue` command).",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
        document.Info.Title = "AnalysisRunner.Server";
        return Task.CompletedTask;
    }
}
