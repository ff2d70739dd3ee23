using AnalysisRunner.Core.Batch.Runners;
using AnalysisRunner.Core.Batch.Runners.Local;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>The local runner's own record of a batch: the ledger and the log lanes.</summary>
public sealed class LocalRunnerFilesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ar-files-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() { if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true); }

    [Fact]
    public void The_ledger_gives_each_attempt_its_start_and_last_status_and_ignores_a_torn_line()
    {
        var home = new RunnerHome(_root);
        var ledger = LocalLayout.Ledger(home, 7);
        Directory.CreateDirectory(Path.GetDirectoryName(ledger)!);
        File.WriteAllText(ledger, "S 3 1 0 0 1 0\nE 3 1 1\nS 12 1 2 0 3 0\nE 12 1 0\nS 3 2 0 5 1 9\nE 3 2 0\nE 4 1 13");

        var contents = BatchLedger.Read(home, 7);

        Assert.Equal(1, contents.Exits[(3, 1)]);
        Assert.Equal(0, contents.Exits[(3, 2)]);
        Assert.Equal(0, contents.Exits[(12, 1)]);
        Assert.False(contents.Exits.ContainsKey((4, 1)));
        Assert.Equal(new LaneLog(new LaneRange(0, 5, null), new LaneRange(1, 9, null)), contents.Starts[(3, 2)]);
        Assert.Empty(BatchLedger.Read(home, 8).Starts);
    }

    [Fact]
    public void An_attempts_log_location_reads_back_as_written()
    {
        var log = new LaneLog(new LaneRange(3, 1024, 2048), new LaneRange(4, 0, null));

        Assert.Equal("3@1024-2048 4@0", log.ToString());
        Assert.Equal(log, LaneLog.TryParse(log.ToString()));
        Assert.Null(LaneLog.TryParse("not a location"));
        Assert.Null(LaneLog.TryParse(null));
    }

    [Fact]
    public void A_lane_is_handed_to_one_attempt_at_a_time_and_each_stretch_starts_where_the_last_ended()
    {
        var home = new RunnerHome(_root);
        using var files = new BatchFiles(home, 5);

        var first = files.Take();
        var second = files.Take();
        Native.AppendFile.Write(files.Lane(first.Lane), "hello\n"u8);
        var ended = files.Release(first);
        var third = files.Take();

        Assert.NotEqual(first.Lane, second.Lane);
        Assert.Equal((first.Lane, 0L, 6L), (ended.Lane, ended.Start, ended.End!.Value));
        Assert.Equal((first.Lane, 6L), (third.Lane, third.Start));
        // A lane an earlier executor's attempt still writes is not handed out again.
        using var reopened = new BatchFiles(home, 5);
        reopened.MarkBusy(first.Lane);
        Assert.NotEqual(first.Lane, reopened.Take().Lane);
    }
}

public sealed class InheritedEnvironmentTests
{
    [Fact]
    public void A_job_never_inherits_a_users_server_token_nor_a_job_identity_and_its_own_variables_win()
    {
        // The executor's own environment, as one started from inside another run's job would have it.
        var executor = new System.Collections.Hashtable
        {
            ["AR_TOKEN"] = "from-the-executor", ["AR_SERVER"] = "from-the-executor", ["AR_JOB_ID"] = "from-the-executor",
            ["AR_RUN_TOKEN"] = "another-run.mac", ["CPG_CONFIG_PATH"] = "/configs/another-run.toml", ["PATH"] = "/usr/bin",
        };
        var inherited = new InheritedEnvironment(new RunnerHome("/tmp/ar-env-home"), executor);
        var launch = new AttemptLaunch
        {
            Key = new AttemptKey(1, 2, 1), JobName = "j", Command = "true", Work = WorkFolder.Shared,
            Environment = [new("AR_JOB_ID", "2"), new("PATH", "/job/bin")],
        };

        var lines = inherited.For(launch);

        Assert.DoesNotContain(lines, line => line.StartsWith("AR_TOKEN=") || line.StartsWith("AR_SERVER="));
        // A run's capability and config reach a job only from JobEnvironment, for its own verified run.
        Assert.DoesNotContain(lines, line => line.StartsWith("AR_RUN_TOKEN=") || line.StartsWith("CPG_CONFIG_PATH="));
        Assert.Equal(["AR_JOB_ID=2"], lines.Where(line => line.StartsWith("AR_JOB_ID=")));
        Assert.Equal(["PATH=/job/bin"], lines.Where(line => line.StartsWith("PATH=")));
    }

    /// <summary>
    /// An executor started by a server has the server's environment, where the admin may have put the
    /// database's password (the server's settings from the environment, or libpq's PGPASSWORD): no job gets it.
    /// </summary>
    [Fact]
    public void A_job_never_inherits_the_servers_settings_nor_PostgreSQL_credentials_but_may_set_its_own_PG_variables()
    {
        var executor = new System.Collections.Hashtable
        {
            ["AR_SERVER__database__connection_string"] = "Host=127.0.0.1;Username=ar;Password=secret",
            ["AR_SERVER__Kestrel__Certificates__Default__Password"] = "secret", ["AR_SERVER_SETTINGS"] = "/etc/ar/server.toml",
            ["PGPASSWORD"] = "secret", ["PGPASSFILE"] = "/root/.pgpass", ["PGHOST"] = "127.0.0.1", ["PGSSLKEY"] = "/root/key",
            ["PGx"] = "kept", ["PATH"] = "/usr/bin", ["LANG"] = "C.UTF-8",
        };
        var inherited = new InheritedEnvironment(new RunnerHome("/tmp/ar-env-home"), executor);
        var launch = new AttemptLaunch
        {
            Key = new AttemptKey(1, 2, 1), JobName = "j", Command = "true", Work = WorkFolder.Shared,
            Environment = [new("PGHOST", "db.example.org")],
        };

        var lines = inherited.For(launch);

        Assert.DoesNotContain(lines, line => line.Contains("secret") || line.StartsWith("AR_SERVER") || line.StartsWith("PGPASS") || line.StartsWith("PGSSLKEY="));
        Assert.Equal(["PGHOST=db.example.org"], lines.Where(line => line.StartsWith("PGHOST=")));
        Assert.Contains("LANG=C.UTF-8", lines);
        Assert.Contains("PGx=kept", lines);
    }
}
