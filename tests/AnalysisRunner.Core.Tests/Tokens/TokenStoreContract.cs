using System.Text.Json;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Core.Tokens;

namespace AnalysisRunner.Core.Tests.Tokens;

/// <summary>
/// What every ITokenStore does, run against each backend (SQLite in a runner home, PostgreSQL).
/// Time comes from a <see cref="ManualClock"/>, so expiry is tested by moving the clock, not by waiting.
/// </summary>
public abstract class TokenStoreContract
{
    protected readonly ManualClock Clock = new();

    /// <summary>A store over this test's database; a second call gives another instance over the same data.</summary>
    protected abstract Task<ITokenStore> OpenStoreAsync(TimeProvider clock);

    /// <summary>Every value of every row of the token table, as text: what someone who stole the database would see.</summary>
    protected abstract Task<IReadOnlyList<string>> ReadStoredValuesAsync();

    private Task<ITokenStore> StoreAsync() => OpenStoreAsync(Clock);

    [BackendFact]
    public async Task An_issued_token_identifies_its_user_and_only_its_hash_is_stored()
    {
        var store = await StoreAsync();
        var issued = await store.IssueAsync(new TokenRequest { User = "Alice@Lab.org", Description = "laptop", CreatedBy = "admin@lab.org" });

        Assert.True(TokenSecret.HasSecretShape(issued.Token));
        Assert.Equal("alice@lab.org", issued.User);
        var stored = await ReadStoredValuesAsync();
        Assert.DoesNotContain(stored, value => value.Contains(issued.Token[TokenSecret.Prefix.Length..], StringComparison.Ordinal));
        Assert.Contains(TokenSecret.Hash(issued.Token), stored);

        var token = await (await OpenStoreAsync(Clock)).AuthenticateAsync(issued.Token);
        Assert.Equal(issued.Id, token.Id);
        Assert.Equal("alice@lab.org", token.User);
        Assert.False(token.Admin);
        Assert.Equal("laptop", token.Description);
        Assert.Equal("admin@lab.org", token.CreatedBy);
        Assert.Equal(Clock.GetUtcNow(), token.CreatedAt);
        Assert.Equal(TokenState.Active, token.State);
    }

    [BackendFact]
    public async Task Each_token_is_new_random_secret_and_id()
    {
        var store = await StoreAsync();
        var first = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        var second = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        Assert.NotEqual(first.Token, second.Token);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(first.Id, (await store.AuthenticateAsync(first.Token)).Id);
        Assert.Equal(second.Id, (await store.AuthenticateAsync(second.Token)).Id);
    }

    [BackendFact]
    public async Task Missing_unknown_and_malformed_secrets_are_refused()
    {
        var store = await StoreAsync();
        await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });

        Assert.Equal("TokenMissing", (await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(""))).ErrorId);
        foreach (var forged in new[] { TokenSecret.New(), "art_short", "Bearer x", new string('a', 47), TokenSecret.New() + " " })
        {
            var error = await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(forged));
            Assert.Equal("TokenInvalid", error.ErrorId);
            Assert.Equal(ErrorKind.AuthenticationError, error.Kind);
        }
    }

    [BackendFact]
    public async Task A_token_works_until_its_expiry_and_not_from_then_on()
    {
        var store = await StoreAsync();
        var issued = await store.IssueAsync(new TokenRequest { User = "alice@lab.org", ExpiresAt = Clock.GetUtcNow().AddHours(1) });
        Assert.Equal(Clock.GetUtcNow().AddHours(1), issued.ExpiresAt);

        Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(issued.Id, (await store.AuthenticateAsync(issued.Token)).Id);

        Clock.Advance(TimeSpan.FromMinutes(1));
        var error = await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(issued.Token));
        Assert.Equal("TokenExpired", error.ErrorId);
        Assert.Contains(issued.Id, error.Message);
        Assert.Equal(TokenState.Expired, (await store.FindAsync(issued.Id))!.State);
    }

    [BackendFact]
    public async Task An_expiry_that_has_passed_is_refused_and_nothing_is_written()
    {
        var store = await StoreAsync();
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() =>
            store.IssueAsync(new TokenRequest { User = "alice@lab.org", ExpiresAt = Clock.GetUtcNow() }));
        Assert.Equal("InvalidTokenExpiry", error.ErrorId);
        Assert.Empty(await store.ListAsync(new TokenQuery { IncludeInactive = true }));
    }

    [BackendFact]
    public async Task A_user_must_be_an_email_address()
    {
        var store = await StoreAsync();
        foreach (var user in new[] { "", "alice", "@lab.org", "alice@", "a@b@c", "alice @lab.org" })
        {
            var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => store.IssueAsync(new TokenRequest { User = user }));
            Assert.Equal("InvalidTokenUser", error.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        }
        Assert.Empty(await store.ListAsync(new TokenQuery { IncludeInactive = true }));
    }

    [BackendFact]
    public async Task A_revoked_token_is_refused_and_revoking_again_keeps_the_first_time()
    {
        var store = await StoreAsync();
        var issued = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        var kept = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });

        var revoked = await store.RevokeAsync(issued.Id);
        Assert.Equal(Clock.GetUtcNow(), revoked.RevokedAt);
        Assert.Equal(TokenState.Revoked, revoked.State);
        var error = await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(issued.Token));
        Assert.Equal("TokenRevoked", error.ErrorId);

        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(revoked.RevokedAt, (await store.RevokeAsync(issued.Id)).RevokedAt);
        Assert.Equal(kept.Id, (await store.AuthenticateAsync(kept.Token)).Id);
    }

    [BackendFact]
    public async Task Revoking_an_unknown_id_is_TokenNotFound()
    {
        var store = await StoreAsync();
        var error = await Assert.ThrowsAsync<AnalysisRunnerException>(() => store.RevokeAsync("0123456789abcdef"));
        Assert.Equal("TokenNotFound", error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.Equal("0123456789abcdef", error.Target);
        Assert.Null(await store.FindAsync("0123456789abcdef"));
    }

    [BackendFact]
    public async Task Revoking_a_user_revokes_all_their_working_tokens_and_no_one_elses()
    {
        var store = await StoreAsync();
        var a1 = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        Clock.Advance(TimeSpan.FromSeconds(1));
        var a2 = await store.IssueAsync(new TokenRequest { User = "alice@lab.org", Admin = true });
        var bob = await store.IssueAsync(new TokenRequest { User = "bob@lab.org" });
        await store.RevokeAsync(a1.Id);
        Clock.Advance(TimeSpan.FromSeconds(1));

        var revoked = await store.RevokeUserAsync("ALICE@lab.org");

        Assert.Equal([a2.Id], revoked.Select(t => t.Id));
        Assert.All(revoked, t => Assert.Equal(TokenState.Revoked, t.State));
        foreach (var token in new[] { a1, a2 })
            await Assert.ThrowsAsync<TokenAuthenticationException>(() => store.AuthenticateAsync(token.Token));
        Assert.Equal("bob@lab.org", (await store.AuthenticateAsync(bob.Token)).User);
        Assert.Empty(await store.RevokeUserAsync("alice@lab.org"));
    }

    [BackendFact]
    public async Task Listing_is_newest_first_shows_working_tokens_by_default_and_never_a_secret()
    {
        var store = await StoreAsync();
        var old = await store.IssueAsync(new TokenRequest { User = "alice@lab.org", ExpiresAt = Clock.GetUtcNow().AddMinutes(5) });
        Clock.Advance(TimeSpan.FromMinutes(1));
        var revoked = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        Clock.Advance(TimeSpan.FromMinutes(1));
        var bob = await store.IssueAsync(new TokenRequest { User = "bob@lab.org", Admin = true });
        Clock.Advance(TimeSpan.FromMinutes(1));
        var current = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        await store.RevokeAsync(revoked.Id);
        Clock.Advance(TimeSpan.FromMinutes(10));

        var working = await store.ListAsync(new TokenQuery());
        Assert.Equal([current.Id, bob.Id], working.Select(t => t.Id));

        var all = await store.ListAsync(new TokenQuery { IncludeInactive = true });
        Assert.Equal([current.Id, bob.Id, revoked.Id, old.Id], all.Select(t => t.Id));
        Assert.Equal([TokenState.Active, TokenState.Active, TokenState.Revoked, TokenState.Expired], all.Select(t => t.State));
        Assert.True(all[1].Admin);

        var alices = await store.ListAsync(new TokenQuery { User = "Alice@LAB.org", IncludeInactive = true });
        Assert.Equal([current.Id, revoked.Id, old.Id], alices.Select(t => t.Id));

        var json = JsonSerializer.Serialize(all);
        foreach (var secret in new[] { old, revoked, bob, current }.Select(t => t.Token))
        {
            Assert.DoesNotContain(secret, json);
            Assert.DoesNotContain(TokenSecret.Hash(secret), json);
        }
    }

    [BackendFact]
    public async Task Last_use_is_recorded_at_most_once_a_minute()
    {
        var store = await StoreAsync();
        var issued = await store.IssueAsync(new TokenRequest { User = "alice@lab.org" });
        Assert.Null((await store.FindAsync(issued.Id))!.LastUsedAt);
        var first = Clock.GetUtcNow();

        Assert.Equal(first, (await store.AuthenticateAsync(issued.Token)).LastUsedAt);
        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(first, (await store.AuthenticateAsync(issued.Token)).LastUsedAt);
        Assert.Equal(first, (await store.FindAsync(issued.Id))!.LastUsedAt);
        Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(Clock.GetUtcNow(), (await store.AuthenticateAsync(issued.Token)).LastUsedAt);
        Assert.Equal(Clock.GetUtcNow(), (await store.FindAsync(issued.Id))!.LastUsedAt);
    }
}
