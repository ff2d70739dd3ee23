using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;
using Microsoft.Data.Sqlite;

namespace AnalysisRunner.Core.Tests.Log;

public sealed class SqliteAuditLogTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "ar-auditlog-" + Guid.NewGuid().ToString("N"));
    private readonly RunnerDatabase _db;
    private readonly SqliteAuditLog _log;

    public SqliteAuditLogTests()
    {
        _db = new RunnerDatabase(new RunnerHome(_root));
        _log = new SqliteAuditLog(_db);
    }

    public void Dispose()
    {
        SqliteConnection.ClearPool(new SqliteConnection(_db.ConnectionString));
        Directory.Delete(_root, recursive: true);
    }

    private static RunRecord Run(string arGuid, DateTimeOffset timestamp, string dataset = "fewgenomes", string user = "alice") => new()
    {
        ArGuid = arGuid,
        Timestamp = timestamp,
        User = user,
        Dataset = dataset,
        AccessLevel = AccessLevel.Test,
        Script = "main.py",
        Description = "a run",
        OutputPrefix = "out",
        OutputDir = $"gs://cpg-{dataset}-test/out",
        ConfigPath = $"/home/configs/{arGuid}.toml",
    };

    private void Append(params RunRecord[] runs) => _db.InTransaction((connection, transaction) =>
    {
        foreach (var run in runs) _log.Append(run, connection, transaction);
        return 0;
    });

    private List<string> Guids(LogQuery query) => _log.Query(query).Select(run => run.ArGuid).ToList();

    [Fact]
    public void Every_field_of_a_run_comes_back_exactly()
    {
        var run = new RunRecord
        {
            ArGuid = "7a1d3c2e-full",
            Timestamp = new DateTimeOffset(2026, 2, 28, 23, 59, 58, 123, TimeSpan.FromHours(10.5)),
            User = "alice@populationgenomics.org.au",
            Dataset = "tob-wgs",
            AccessLevel = AccessLevel.Full,
            Repository = "populationgenomics/production-pipelines",
            Commit = "0123456789abcdef0123456789abcdef01234567",
            Cwd = "scripts/qc",
            Script = "run.py",
            ScriptArguments = ["--sample", "CPG 1", "O'Brien; rm -rf ~", ""],
            Description = "Joint calling — ünïcode and \"quotes\"",
            OutputPrefix = "joint-calling/v1",
            OutputDir = "gs://cpg-tob-wgs-main/joint-calling/v1",
            ConfigPath = "/home/configs/7a1d3c2e-full.toml",
            DriverBatchId = 9_000_000_001,
            Image = "australia-southeast1-docker.pkg.dev/cpg/images/driver:1.2",
            Cpu = 0.1,
            Memory = "1.5Gi",
            Storage = "20Gi",
            Preemptible = true,
            Environment = new Dictionary<string, string> { ["B"] = "2", ["A"] = "1", ["EMPTY"] = "" },
            ConfigFiles = ["/cfg/b.toml", "/cfg/a.toml"],
            ConfigSnapshots = [new ConfigSnapshot("/cfg/b.toml", "[workflow]\nname = \"b\"\n"), new ConfigSnapshot("/cfg/a.toml", "x = 'a'")],
            SkipRepoCheckout = true,
            RerunOf = "5b2e-original",
        };
        Append(run);

        var back = Assert.Single(_log.Query(new LogQuery()));
        Assert.Equal(run.ArGuid, back.ArGuid);
        Assert.Equal(run.Timestamp, back.Timestamp);
        Assert.Equal(run.Timestamp.Offset, back.Timestamp.Offset);
        Assert.Equal(run.User, back.User);
        Assert.Equal(run.Dataset, back.Dataset);
        Assert.Equal(AccessLevel.Full, back.AccessLevel);
        Assert.Equal(run.Repository, back.Repository);
        Assert.Equal(run.Commit, back.Commit);
        Assert.Equal(run.Cwd, back.Cwd);
        Assert.Equal(run.Script, back.Script);
        Assert.Equal(run.ScriptArguments, back.ScriptArguments);
        Assert.Equal(run.Description, back.Description);
        Assert.Equal(run.OutputPrefix, back.OutputPrefix);
        Assert.Equal(run.OutputDir, back.OutputDir);
        Assert.Equal(run.ConfigPath, back.ConfigPath);
        Assert.Equal(run.DriverBatchId, back.DriverBatchId);
        Assert.Equal(run.Image, back.Image);
        Assert.Equal(BitConverter.DoubleToInt64Bits(0.1), BitConverter.DoubleToInt64Bits(back.Cpu!.Value));
        Assert.Equal(run.Memory, back.Memory);
        Assert.Equal(run.Storage, back.Storage);
        Assert.True(back.Preemptible);
        Assert.Equal(run.Environment.ToList(), back.Environment.ToList());
        Assert.Equal(run.ConfigFiles, back.ConfigFiles);
        Assert.Equal(run.ConfigSnapshots, back.ConfigSnapshots);
        Assert.True(back.SkipRepoCheckout);
        Assert.Equal(run.RerunOf, back.RerunOf);
    }

    [Fact]
    public void A_minimal_run_comes_back_with_its_nulls_and_empty_lists()
    {
        Append(Run("minimal", Noon));
        var back = Assert.Single(_log.Query(new LogQuery()));
        Assert.Equal((AccessLevel.Test, Noon), (back.AccessLevel, back.Timestamp));
        Assert.Null(back.Repository);
        Assert.Null(back.Commit);
        Assert.Null(back.Cwd);
        Assert.Null(back.Image);
        Assert.Null(back.Cpu);
        Assert.Null(back.Memory);
        Assert.Null(back.Storage);
        Assert.Null(back.RerunOf);
        Assert.Empty(back.ScriptArguments);
        Assert.Empty(back.Environment);
        Assert.Empty(back.ConfigFiles);
        Assert.Empty(back.ConfigSnapshots);
        Assert.False(back.Preemptible);
        Assert.False(back.SkipRepoCheckout);
        Assert.Equal(0, back.DriverBatchId);
    }

    [Fact]
    public void Runs_come_back_newest_first_with_ties_in_reverse_append_order()
    {
        Append(Run("oldest", Noon.AddDays(-2)), Run("newest", Noon), Run("middle", Noon.AddDays(-1)));
        Append(Run("newest-too", Noon));
        Assert.Equal(["newest-too", "newest", "middle", "oldest"], Guids(new LogQuery()));
    }

    [Fact]
    public void Filters_combine_with_and()
    {
        Append(
            Run("a-alice-1", Noon.AddHours(-3), "a", "alice"),
            Run("a-bob", Noon.AddHours(-2), "a", "bob"),
            Run("b-alice", Noon.AddHours(-1), "b", "alice"),
            Run("a-alice-2", Noon, "a", "alice"));
        Assert.Equal(["a-alice-2", "a-bob", "a-alice-1"], Guids(new LogQuery { Dataset = "a" }));
        Assert.Equal(["a-alice-2", "b-alice", "a-alice-1"], Guids(new LogQuery { User = "alice" }));
        Assert.Equal(["a-alice-2", "a-alice-1"], Guids(new LogQuery { Dataset = "a", User = "alice" }));
        Assert.Equal(["a-alice-2"], Guids(new LogQuery { Dataset = "a", User = "alice", First = 1 }));
        Assert.Equal(["b-alice"], Guids(new LogQuery { ArGuid = "b-alice" }));
        Assert.Empty(Guids(new LogQuery { ArGuid = "b-alice", Dataset = "a" }));
        Assert.Empty(Guids(new LogQuery { Dataset = "nobody-ran-this" }));
    }

    [Fact]
    public void A_date_range_includes_After_and_excludes_Before()
    {
        Append(
            Run("before-range", Noon.AddMilliseconds(-1)),
            Run("at-after", Noon),
            Run("inside", Noon.AddHours(1)),
            Run("at-before", Noon.AddHours(2)));
        Assert.Equal(["inside", "at-after"], Guids(new LogQuery { After = Noon, Before = Noon.AddHours(2) }));
        Assert.Equal(["at-before", "inside", "at-after"], Guids(new LogQuery { After = Noon.ToOffset(TimeSpan.FromHours(10)) }));
        Assert.Equal(["before-range"], Guids(new LogQuery { Before = Noon }));
    }

    [Fact]
    public void First_returns_only_the_newest_rows()
    {
        Append(Enumerable.Range(0, 50).Select(i => Run($"run-{i:00}", Noon.AddMinutes(i))).ToArray());
        Assert.Equal(["run-49", "run-48", "run-47"], Guids(new LogQuery { First = 3 }));
        Assert.Empty(Guids(new LogQuery { First = 0 }));
        Assert.Equal(50, Guids(new LogQuery()).Count);
    }

    [Fact]
    public void A_negative_First_is_refused_before_anything_is_read()
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => _log.Query(new LogQuery { First = -1 }));
        Assert.Equal("InvalidFirst", error.ErrorId);
        Assert.Equal(-1, error.Target);
    }

    [Fact]
    public void A_rolled_back_transaction_leaves_no_row()
    {
        using (var connection = _db.Open())
        using (var transaction = connection.BeginTransaction())
        {
            _log.Append(Run("rolled-back", Noon), connection, transaction);
            transaction.Rollback();
        }
        Assert.Throws<InvalidOperationException>(() => _db.InTransaction<int>((connection, transaction) =>
        {
            _log.Append(Run("failed-later", Noon), connection, transaction);
            throw new InvalidOperationException("the driver batch could not be stored");
        }));
        Assert.Empty(_log.Query(new LogQuery()));
    }

    [Fact]
    public void The_same_run_cannot_be_logged_twice()
    {
        Append(Run("once", Noon));
        var error = Assert.Throws<AnalysisRunnerException>(() => Append(Run("once", Noon.AddHours(1))));
        Assert.Equal("DuplicateRun", error.ErrorId);
        Assert.Equal("once", error.Target);
        Assert.Single(_log.Query(new LogQuery()));
    }

    [Fact]
    public void Another_log_on_the_same_database_sees_the_same_rows()
    {
        Append(Run("shared", Noon));
        Assert.Equal(["shared"], new SqliteAuditLog(_db).Query(new LogQuery()).Select(run => run.ArGuid));
    }

    [Fact]
    public void Stopping_early_releases_the_connection()
    {
        Append(Enumerable.Range(0, 20).Select(i => Run($"run-{i}", Noon.AddMinutes(i))).ToArray());
        using (var enumerator = _log.Query(new LogQuery()).GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            Assert.False(CanTruncateWal(), "an open query holds a read snapshot, so the WAL cannot be truncated");
        }
        Assert.True(CanTruncateWal());

        foreach (var run in _log.Query(new LogQuery()))
        {
            if (run.ArGuid == "run-15") break;
        }
        Assert.True(CanTruncateWal());
    }

    /// <summary>A server's entry as PostgresRunLog seals it: linked to the entry before it in the server's chain, not this file's.</summary>
    private void Copy(RunRecord run)
    {
        var serversPrevious = new string('a', 64);
        var sealedRun = run with { PreviousHash = serversPrevious };
        sealedRun = sealedRun with { EntryHash = AuditChain.EntryHash(serversPrevious, sealedRun) };
        _db.InTransaction((connection, transaction) => { _log.Replicate(sealedRun, connection, transaction); return 0; });
    }

    [Fact]
    public void A_copy_of_a_servers_entry_is_no_link_of_the_homes_chain_and_verifies_on_its_own()
    {
        Append(Run("home-1", Noon));
        Copy(Run("server-7", Noon.AddMinutes(1)));
        Append(Run("home-2", Noon.AddMinutes(2)));

        var chain = _log.ReadChain().ToList();
        Assert.Equal(["home-1", "home-2"], chain.Select(run => run.ArGuid));
        Assert.Equal(chain[0].EntryHash, chain[1].PreviousHash);
        var verdict = AuditChain.CheckCopies(AuditChain.Verify(chain), _log.ReadCopies());
        Assert.True(verdict.Valid, verdict.Reason);
        Assert.Equal(2, verdict.Entries);
        Assert.Equal(1, verdict.Copies);
        // Queries still find it: the executor reads a server run's scope from its copy.
        Assert.Equal(["server-7"], Guids(new LogQuery { ArGuid = "server-7" }));
    }

    [Fact]
    public void An_altered_copy_fails_the_check_naming_it_and_a_rerun_of_a_copy_is_sent_to_the_server()
    {
        Append(Run("home-1", Noon));
        Copy(Run("server-7", Noon.AddMinutes(1)));
        using (var connection = _db.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE audit_log SET description = 'rewritten' WHERE ar_guid = 'server-7'";
            command.ExecuteNonQuery();
        }

        var verdict = AuditChain.CheckCopies(AuditChain.Verify(_log.ReadChain()), _log.ReadCopies());
        Assert.False(verdict.Valid);
        Assert.Equal("server-7", verdict.FirstAlteredArGuid);
        Assert.Contains("copy of the server's entry server-7", verdict.Reason);

        var refused = Assert.Throws<AnalysisRunnerException>(() => AuditChain.CheckThrough(_log.ReadChain(), "server-7"));
        Assert.Equal("RunNotInChain", refused.ErrorId);
    }

    /// <summary>A WAL truncation checkpoint reports busy while any reader still holds a snapshot.</summary>
    private bool CanTruncateWal()
    {
        Append(Run(Guid.NewGuid().ToString(), Noon.AddYears(-1)));
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout=0";
        command.ExecuteNonQuery();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return reader.GetInt32(0) == 0;
    }

    public static TheoryData<string, LogQuery> IndexedQueries => new()
    {
        { "audit_log_dataset_user_timestamp", new LogQuery { Dataset = "x", User = "y", First = 20 } },
        { "audit_log_dataset_user_timestamp", new LogQuery { Dataset = "x", User = "y", After = Noon, Before = Noon.AddDays(7) } },
        { "audit_log_dataset_timestamp", new LogQuery { Dataset = "x", First = 20 } },
        { "audit_log_user_timestamp", new LogQuery { User = "y", First = 20 } },
        { "audit_log_timestamp", new LogQuery { After = Noon, Before = Noon.AddDays(7), First = 20 } },
        { "audit_log_timestamp", new LogQuery { First = 20 } },
        { "audit_log_ar_guid", new LogQuery { ArGuid = "g" } },
    };

    [Theory]
    [MemberData(nameof(IndexedQueries))]
    public void Every_filter_is_served_by_an_index_in_newest_first_order(string index, LogQuery query)
    {
        Append(Enumerable.Range(0, 200).Select(i => Run($"r{i}", Noon.AddMinutes(i), $"d{i % 7}", $"u{i % 5}")).ToArray());
        var (sql, parameters) = SqliteAuditLog.BuildSql(query);
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        var plan = new List<string>();
        using (var reader = command.ExecuteReader())
            while (reader.Read()) plan.Add(reader.GetString(3));
        var text = string.Join(" | ", plan);
        Assert.Contains($"INDEX {index}", text);
        Assert.DoesNotContain("TEMP B-TREE", text);
        Assert.DoesNotContain("SCAN audit_log |", text + " |");
    }
}
