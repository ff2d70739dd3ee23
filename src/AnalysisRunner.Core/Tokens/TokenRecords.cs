namespace AnalysisRunner.Core.Tokens;

public enum TokenState
{
    Active,
    Expired,
    Revoked,

    /// <summary>A PostgreSQL row without the server's seal (TokenRowSeal): written outside the server, or before seals. It never works.</summary>
    Unsealed,
}

/// <summary>What is known about a bearer token, never the token itself (the store keeps only its hash).</summary>
public sealed record TokenInfo
{
    public required string Id { get; init; }
    public required string User { get; init; }
    public bool Admin { get; init; }
    public string? Description { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? CreatedBy { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }

    /// <summary>As of when the store read it.</summary>
    public TokenState State { get; init; }

    public TokenState StateAt(DateTimeOffset now) =>
        RevokedAt is not null ? TokenState.Revoked
        : ExpiresAt is { } expires && expires <= now ? TokenState.Expired
        : TokenState.Active;
}

/// <summary>What an admin asks for. The user is who the token will speak for; CreatedBy is who asked (for the record).</summary>
public sealed record TokenRequest
{
    public required string User { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public bool Admin { get; init; }
    public string? Description { get; init; }
    public string? CreatedBy { get; init; }
}

/// <summary>A token just issued: the only time its secret exists outside the caller's hands.</summary>
public sealed record IssuedToken
{
    public required string Id { get; init; }
    public required string User { get; init; }
    public required string Token { get; init; }
    public bool Admin { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>Which tokens to list; by default only those that still work.</summary>
public sealed record TokenQuery
{
    public string? User { get; init; }
    public bool IncludeInactive { get; init; }
}
