using System.Security.Claims;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Server.Authentication;

/// <summary>The authenticated caller, read from the claims <see cref="BearerTokenHandler"/> made, and nothing else.</summary>
internal static class CallerExtensions
{
    public static CallerInfo Caller(this HttpContext context)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true || user.FindFirstValue(ClaimTypes.Name) is not { } name)
            throw new InvalidOperationException("An endpoint that needs a caller was reached without authentication.");
        return new CallerInfo
        {
            User = name,
            TokenId = user.FindFirstValue(BearerTokenHandler.TokenIdClaim)!,
            Admin = user.IsInRole(BearerTokenHandler.AdminRole),
            ExpiresAt = user.FindFirstValue(BearerTokenHandler.ExpiresClaim) is { } expires ? DateTimeOffset.Parse(expires) : null,
        };
    }

    /// <summary>403 AdminRoleRequired unless the caller's token carries the admin role; <paramref name="mayDo"/> says what only an admin may.</summary>
    public static CallerInfo RequireAdmin(this HttpContext context, string mayDo = "manage other users' tokens")
    {
        var caller = context.Caller();
        if (!caller.Admin)
            throw new AnalysisRunnerException("AdminRoleRequired", ErrorKind.PermissionDenied, caller.User,
                $"{caller.User} is not an admin of this server: only a token issued with the admin role may {mayDo}.");
        return caller;
    }
}
