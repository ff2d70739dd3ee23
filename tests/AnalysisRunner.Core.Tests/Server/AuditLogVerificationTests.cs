using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Tests.TestSupport;
using Npgsql;

namespace AnalysisRunner.Core.Tests.Server;

/// <summary>
/// Test-AnalysisLog over the server: an admin's token verifies the chain where the server keeps it
/// and is told where it breaks; a member's token may not (the chain spans every dataset).
/// </summary>
[RequiresPostgres]
[Collection(PostgresCollection.Name)]
public sealed class AuditLogVerificationTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Alice = "alice@example.org";
    private readonly ServerWorld _world = new("ar-verify-", batchesInPostgres: true);
    private string _main = "";

    public async Task InitializeAsync()
    {
        _main = _world.CommitHello();
        await _world.StartAsync(postgres, _world.Dataset("fewgenomes", Alice), "none");
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [BackendFact]
    public async Task An_admin_verifies_the_servers_chain_and_is_told_which_entry_was_altered()
    {
        using var alice = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Alice)).Token));
        using var admin = new HttpRunnerClient(new ServerConnection(_world.Server.Address, (await _world.Server.IssueAsync("root@example.org", admin: true)).Token));
        var first = await alice.SubmitRunAsync(await alice.PlanRunAsync(_world.HelloFacts(_main, description: "first")));
        var second = await alice.SubmitRunAsync(await alice.PlanRunAsync(_world.HelloFacts(_main, description: "second")));

        var honest = await admin.VerifyAuditLogAsync();
        Assert.True(honest.Valid, honest.Reason);
        Assert.Equal((2, second.EntryHash), (honest.Entries, honest.HeadHash));

        await using (var connection = new NpgsqlConnection(_world.ConnectionString))
        {
            await connection.OpenAsync();
            await using var rewrite = new NpgsqlCommand("UPDATE audit_log SET entry = replace(entry, '\"first\"', '\"altered\"') WHERE ar_guid = $1", connection);
            rewrite.Parameters.AddWithValue(first.ArGuid);
            Assert.Equal(1, await rewrite.ExecuteNonQueryAsync());
        }
        var altered = await admin.VerifyAuditLogAsync();

        Assert.False(altered.Valid, "a rewritten entry passed");
        Assert.Equal((1, first.ArGuid), (altered.FirstAlteredPosition, altered.FirstAlteredArGuid));
    }

    [BackendFact]
    public async Task A_members_token_may_not_verify_the_whole_log()
    {
        using var alice = new HttpRunnerClient(new ServerConnection(_world.Server!.Address, (await _world.Server.IssueAsync(Alice)).Token));

        var refused = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => alice.VerifyAuditLogAsync());

        Assert.Equal(("AdminRoleRequired", ErrorKind.PermissionDenied), (refused.ErrorId, refused.Kind));
        Assert.Contains("verify the whole audit log", refused.Message);
    }
}
