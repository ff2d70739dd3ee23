using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Authentication;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Tokens over HTTP. Anyone may list, issue and revoke their own (the user is always the caller's);
/// the admin routes manage anyone's and need a token with the admin role (403 AdminRoleRequired).
/// </summary>
internal static class TokenEndpoints
{
    public static void MapTokens(this IEndpointRouteBuilder app)
    {
        var own = app.MapGroup(ApiRoutes.Tokens).WithTags("Tokens").ProducesProblem(StatusCodes.Status401Unauthorized);
        own.MapGet("", ListOwnAsync).WithName("ListOwnTokens").WithSummary("The caller's working tokens.");
        own.MapPost("", IssueOwnAsync).WithName("IssueOwnToken")
            .WithSummary("A new token for the caller; it expires no later than the token that asked for it.")
            .Produces<IssuedToken>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        own.MapDelete("/{id}", RevokeOwnAsync).WithName("RevokeOwnToken").WithSummary("Revokes one of the caller's tokens.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var admin = app.MapGroup(ApiRoutes.AdminTokens).WithTags("Token administration")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapPost("", IssueAsync).WithName("IssueToken").WithSummary("A new token for the user the body names.")
            .Produces<IssuedToken>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        admin.MapGet("", ListAsync).WithName("ListTokens").WithSummary("Tokens of every user, or of ?user=.");
        admin.MapDelete("/{id}", RevokeAsync).WithName("RevokeToken").WithSummary("Revokes any token by id.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapDelete("", RevokeUserAsync).WithName("RevokeUserTokens").WithSummary("Revokes every working token of ?user=.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static Task<IReadOnlyList<TokenInfo>> ListOwnAsync(HttpContext context, ITokenStore tokens, bool? includeInactive) =>
        tokens.ListAsync(new TokenQuery { User = context.Caller().User, IncludeInactive = includeInactive == true }, context.RequestAborted);

    private static async Task<IResult> IssueOwnAsync(HttpContext context, ITokenStore tokens, OwnTokenRequest request)
    {
        var caller = context.Caller();
        // A token must not outlive the one that made it, or a stolen short-lived token could make itself permanent.
        var expires = request.ExpiresAt is { } asked && (caller.ExpiresAt is null || asked < caller.ExpiresAt) ? asked : caller.ExpiresAt;
        var issued = await tokens.IssueAsync(new TokenRequest
        {
            User = caller.User, ExpiresAt = expires, Description = request.Description, CreatedBy = caller.User,
        }, context.RequestAborted);
        return Results.Json(issued, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<TokenInfo> RevokeOwnAsync(HttpContext context, ITokenStore tokens, string id)
    {
        var caller = context.Caller();
        // Someone else's token id answers like one that does not exist: ids are not for probing.
        if (await tokens.FindAsync(id, context.RequestAborted) is not { } token || token.User != caller.User)
            throw new AnalysisRunnerException("TokenNotFound", ErrorKind.ObjectNotFound, id, $"You have no token with id '{id}'.");
        return await tokens.RevokeAsync(id, context.RequestAborted);
    }

    private static async Task<IResult> IssueAsync(HttpContext context, ITokenStore tokens, AdminTokenRequest request)
    {
        var admin = context.RequireAdmin();
        var issued = await tokens.IssueAsync(new TokenRequest
        {
            User = request.User ?? "", ExpiresAt = request.ExpiresAt, Admin = request.Admin, Description = request.Description,
            CreatedBy = admin.User,
        }, context.RequestAborted);
        return Results.Json(issued, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static Task<IReadOnlyList<TokenInfo>> ListAsync(HttpContext context, ITokenStore tokens, string? user, bool? includeInactive)
    {
        context.RequireAdmin();
        return tokens.ListAsync(new TokenQuery { User = user, IncludeInactive = includeInactive == true }, context.RequestAborted);
    }

    private static Task<TokenInfo> RevokeAsync(HttpContext context, ITokenStore tokens, string id)
    {
        context.RequireAdmin();
        return tokens.RevokeAsync(id, context.RequestAborted);
    }

    private static Task<IReadOnlyList<TokenInfo>> RevokeUserAsync(HttpContext context, ITokenStore tokens, string? user)
    {
        context.RequireAdmin();
        if (string.IsNullOrWhiteSpace(user))
            throw new AnalysisRunnerException("UserRequired", ErrorKind.InvalidArgument, null,
                "Say whose tokens to revoke with ?user=<email>, or revoke one token with DELETE …/tokens/<id>.");
        return tokens.RevokeUserAsync(user, context.RequestAborted);
    }
}
