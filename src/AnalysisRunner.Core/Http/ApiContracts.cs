namespace AnalysisRunner.Core.Http;

/// <summary>The server's routes, shared with the client so neither spells one differently.</summary>
public static class ApiRoutes
{
    public const string Health = "/healthz";
    public const string OpenApi = "/openapi/v1.json";
    public const string WhoAmI = "/api/v1/whoami";

    /// <summary>The caller's own tokens: list (GET), issue one for yourself (POST), revoke one (DELETE …/{id}).</summary>
    public const string Tokens = "/api/v1/tokens";

    /// <summary>Admin only: any user's tokens (POST issues for the user the body names; GET ?user=; DELETE …/{id}; DELETE ?user= revokes a user's).</summary>
    public const string AdminTokens = "/api/v1/admin/tokens";
}

/// <summary>Who the server takes the caller to be: from the bearer token only.</summary>
public sealed record CallerInfo
{
    public required string User { get; init; }
    public required string TokenId { get; init; }
    public bool Admin { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>GET /healthz: 200 with this when the server and its database work; 503 with a problem detail when not.</summary>
public sealed record HealthReport
{
    public required string Status { get; init; }
    public required string Database { get; init; }
}

/// <summary>
/// POST /api/v1/tokens: a token for the caller. There is no user here on purpose: the server issues
/// it to whoever the bearer token says the caller is (a "user" member in the body is ignored).
/// </summary>
public sealed record OwnTokenRequest
{
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? Description { get; init; }
}

/// <summary>POST /api/v1/admin/tokens (admin role only): a token for the user named here.</summary>
public sealed record AdminTokenRequest
{
    public string? User { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public bool Admin { get; init; }
    public string? Description { get; init; }
}
