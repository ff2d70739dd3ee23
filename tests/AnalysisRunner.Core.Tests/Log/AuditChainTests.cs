using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tests.Log;

public sealed class AuditChainTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ar-chain-" + Guid.NewGuid().ToString("N"));
    private readonly RunnerDatabase _db;
    private readonly SqliteAuditLog _log;

    public AuditChainTests()
    {
        _db = new RunnerDatabase(new RunnerHome(_root));
        _log = new SqliteAuditLog(_db);
    }

    public void Dispose()
    {
        SqliteConnection.ClearPool(new SqliteConnection(_db.ConnectionString));
        Directory.Delete(_root, recursive: true);
    }

    internal static RunRecord Run(string arGuid, string dataset = "fewgenomes") => new()
    {
        ArGuid = arGuid,
        Timestamp = new DateTimeOffset(2026, 3, 1, 12, 0, 0, 123, TimeSpan.FromHours(10)).AddTicks(4567),
        User = "alice@example.org",
        Dataset = dataset,
        AccessLevel = AccessLevel.Test,
        Repository = "org/repo",
        Commit = new string('a', 40),
        Script = "main.py",
        ScriptArguments = ["--x", "é ü"],
        Description = "a run",
        OutputPrefix = "out",
        OutputDir = $"gs://cpg-{dataset}-test/out",
        ConfigPath = $"/home/configs/{arGuid}.toml",
        Cpu = 0.1,
        Environment = new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" },
        ConfigSnapshots = [new ConfigSnapshot("u.toml", "[x]\ny = 1\n")],
    };

    private void Append(params RunRecord[] runs) => _db.InTransaction((connection, transaction) =>
    {
        foreach (var run in runs) _log.Append(run, connection, transaction);
        return 0;
    });

    private void Sql(string sql)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void The_canonical_form_is_fixed_so_every_backend_computes_the_same_hash()
    {
        // A PostgreSQL log must reuse AuditChain; if this hash changes, old logs stop verifying.
        var hash = AuditChain.EntryHash(AuditChain.Genesis, Run("g"));
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, AuditChain.EntryHash(AuditChain.Genesis, Run("g") with { Environment = new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" } }));
        Assert.Equal(hash, AuditChain.EntryHash(AuditChain.Genesis, Run("g") with { EntryHash = "x", PreviousHash = "y", DriverBatchId = 0 }));
        Assert.NotEqual(hash, AuditChain.EntryHash(AuditChain.Genesis, Run("g") with { Dataset = "tob-wgs" }));
        Assert.NotEqual(hash, AuditChain.EntryHash("1" + AuditChain.Genesis[1..], Run("g")));
        Assert.NotEqual(hash, AuditChain.EntryHash(AuditChain.Genesis, Run("g") with { ScriptArguments = ["--x é", "ü"] }));
        Assert.True(hash == GoldenHash, $"the canonical form changed: {hash}");
    }

    /// <summary>The v1 hash of Run("g") after genesis; computed once, pinned so the canonical form cannot drift.</summary>
    private const string GoldenHash = "809401a109cfd9c9406f490a29d687ff977eeef1ee583065dc330c2e5a4e9cf0";

    [Fact]
    public void Appended_entries_chain_and_verify_as_read_back()
    {
        Append(Run("a"), Run("b"));
        Append(Run("c"));

        var chain = _log.ReadChain().ToList();
        Assert.Equal(["a", "b", "c"], chain.Select(r => r.ArGuid));
        Assert.Equal(AuditChain.Genesis, chain[0].PreviousHash);
        Assert.Equal(chain[0].EntryHash, chain[1].PreviousHash);
        Assert.Equal(chain[1].EntryHash, chain[2].PreviousHash);
        var verdict = AuditChain.Verify(chain);
        Assert.True(verdict.Valid);
        Assert.Equal(3, verdict.Entries);
        Assert.Equal(chain[2].EntryHash, verdict.HeadHash);
        Assert.Equal(chain[2].EntryHash, _log.Query(new LogQuery { First = 1 }).Single().EntryHash);
    }

    [Theory]
    [InlineData("UPDATE audit_log SET access_level = 'full' WHERE ar_guid = 'b'", 2, "b", "contents changed")]
    [InlineData("UPDATE audit_log SET config_snapshots = '[]' WHERE ar_guid = 'b'", 2, "b", "contents changed")]
    [InlineData("UPDATE audit_log SET user = 'ALICE@example.org' WHERE ar_guid = 'a'", 1, "a", "contents changed")]
    [InlineData("DELETE FROM audit_log WHERE ar_guid = 'b'", 2, "c", "link to the entry before")]
    [InlineData("UPDATE audit_log SET entry_hash = NULL, prev_hash = NULL WHERE ar_guid = 'c'", 3, "c", "no hash")]
    public void An_edited_removed_or_unhashed_entry_is_named_as_the_first_altered(string tamper, int position, string arGuid, string reason)
    {
        Append(Run("a"), Run("b"), Run("c"));
        Sql(tamper);

        var verdict = AuditChain.Verify(_log.ReadChain());

        Assert.False(verdict.Valid);
        Assert.Equal(position, verdict.FirstAlteredPosition);
        Assert.Equal(arGuid, verdict.FirstAlteredArGuid);
        Assert.Contains(reason, verdict.Reason);
    }

    [Fact]
    public void An_edit_that_recomputes_its_own_hash_still_breaks_the_next_link()
    {
        Append(Run("a"), Run("b"), Run("c"));
        var b = _log.ReadChain().Single(r => r.ArGuid == "b");
        var forged = AuditChain.EntryHash(b.PreviousHash!, b with { Dataset = "tob-wgs" });
        Sql($"UPDATE audit_log SET dataset = 'tob-wgs', entry_hash = '{forged}' WHERE ar_guid = 'b'");

        var verdict = AuditChain.Verify(_log.ReadChain());

        Assert.Equal(3, verdict.FirstAlteredPosition);
        Assert.Equal("c", verdict.FirstAlteredArGuid);
        AuditChain.CheckEntry(_log.Query(new LogQuery { ArGuid = "b" }).Single());
    }

    [Fact]
    public void CheckThrough_trusts_an_entry_only_when_the_chain_up_to_it_verifies()
    {
        Append(Run("a"), Run("b"), Run("c"));
        Sql("UPDATE audit_log SET description = 'changed' WHERE ar_guid = 'b'");

        AuditChain.CheckThrough(_log.ReadChain(), "a");
        var ex = Assert.Throws<AnalysisRunnerException>(() => AuditChain.CheckThrough(_log.ReadChain(), "c"));
        Assert.Equal("AuditChainBroken", ex.ErrorId);
        Assert.Equal("b", ex.Target);
        Assert.Equal("AuditChainBroken", Assert.Throws<AnalysisRunnerException>(() => AuditChain.CheckEntry(_log.Query(new LogQuery { ArGuid = "b" }).Single())).ErrorId);
    }

    [Fact]
    public void A_log_made_before_the_chain_gains_its_columns_and_reports_its_old_rows()
    {
        var home = new RunnerHome(Path.Combine(_root, "old"));
        var db = new RunnerDatabase(home);
        using (var connection = db.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                CREATE TABLE audit_log (id INTEGER PRIMARY KEY, ar_guid TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, timestamp_offset_minutes INTEGER NOT NULL,
                    user TEXT NOT NULL, dataset TEXT NOT NULL, access_level TEXT NOT NULL, repository TEXT, commit_sha TEXT, cwd TEXT, script TEXT NOT NULL,
                    script_arguments TEXT NOT NULL, description TEXT NOT NULL, output_prefix TEXT NOT NULL, output_dir TEXT NOT NULL, config_path TEXT NOT NULL,
                    driver_batch_id INTEGER NOT NULL, image TEXT, cpu REAL, memory TEXT, storage TEXT, preemptible INTEGER NOT NULL, environment TEXT NOT NULL,
                    config_files TEXT NOT NULL, config_snapshots TEXT NOT NULL, skip_repo_checkout INTEGER NOT NULL, rerun_of TEXT);
                INSERT INTO audit_log VALUES (1, 'old', 0, 0, 'u', 'd', 'test', NULL, NULL, NULL, 's', '[]', 'x', 'o', 'o', 'c', 1, NULL, NULL, NULL, NULL, 0, '{}', '[]', '[]', 0, NULL);
                """;
            command.ExecuteNonQuery();
        }
        var log = new SqliteAuditLog(db);
        db.InTransaction((c, t) => log.Append(Run("new"), c, t));

        var verdict = AuditChain.Verify(log.ReadChain());
        Assert.Equal(1, verdict.FirstAlteredPosition);
        Assert.Contains("no hash", verdict.Reason);
        SqliteConnection.ClearPool(new SqliteConnection(db.ConnectionString));
    }
}
