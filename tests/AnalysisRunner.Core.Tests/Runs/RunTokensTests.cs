using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Tests.Runs;

/// <summary>The run capability as a job (or anyone who got hold of its environment) might try to forge it.</summary>
public sealed class RunTokensTests : IDisposable
{
    private readonly AuthorityWorld _world = new();
    private readonly RunRecord _run;

    public RunTokensTests() => _run = _world.Authority.SubmitAsync(_world.Facts(), _world.Caller).GetAwaiter().GetResult();

    public void Dispose() => _world.Dispose();

    private AnalysisRunnerException Refused(string token, string errorId = "InvalidRunToken")
    {
        var ex = Assert.ThrowsAny<AnalysisRunnerException>(() => _world.Deployment.RunTokens.Verify(token));
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }

    [Fact]
    public void A_token_the_runner_issued_verifies_to_its_logged_run()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);

        var verified = _world.Deployment.RunTokens.Verify(token);

        Assert.Equal(_run.ArGuid, verified.ArGuid);
        Assert.Equal(("fewgenomes", AccessLevel.Test), (verified.Dataset, verified.AccessLevel));
        Assert.StartsWith(_run.ArGuid + ".", token);
        Assert.DoesNotContain(Convert.ToBase64String(File.ReadAllBytes(_world.Home.RunTokenKeyPath)), token);
    }

    [Fact]
    public void Forged_tokens_are_refused()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        var signature = token[(token.LastIndexOf('.') + 1)..];

        Refused(_run.ArGuid);
        Refused(_run.ArGuid + ".");
        Refused(_run.ArGuid + "." + new string('A', signature.Length));
        Refused(_run.ArGuid + "." + signature[..^2] + (signature[^2] == 'A' ? "B" : "A") + signature[^1]);
        Refused(Guid.NewGuid() + "." + signature);
        Refused("../../x." + signature);
        Refused(new string('x', 2000));
        Refused("");
    }

    [Fact]
    public void A_token_signed_with_another_homes_key_is_refused()
    {
        using var other = new AuthorityWorld();
        Refused(RunTokens.Issue(other.Home, _run.ArGuid));
    }

    [Fact]
    public void A_genuine_token_for_a_run_that_is_not_logged_grants_nothing()
    {
        Refused(RunTokens.Issue(_world.Home, Guid.NewGuid().ToString()));
    }

    [Fact]
    public void A_token_of_a_run_whose_entry_was_edited_grants_nothing()
    {
        var token = RunTokens.Issue(_world.Home, _run.ArGuid);
        _world.Sql($"UPDATE audit_log SET access_level = 'full' WHERE ar_guid = '{_run.ArGuid}'");

        Refused(token, "AuditChainBroken");
    }

    [Fact]
    public void The_key_is_the_owners_alone()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_world.Home.RunTokenKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_world.Home.KeysDirectory));
        Assert.Equal(32, File.ReadAllBytes(_world.Home.RunTokenKeyPath).Length);
    }

    [Fact]
    public void A_key_others_can_read_is_refused()
    {
        var home = new RunnerHome(Path.Combine(_world.HomePath, "open-home"));
        HomeInitializer.EnsureInitialized(home);
        File.SetUnixFileMode(home.RunTokenKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var ex = Assert.Throws<AnalysisRunnerException>(() => RunTokens.Issue(home, "g"));

        Assert.Equal("KeyFileTooOpen", ex.ErrorId);
    }
}
