<#
.SYNOPSIS
    Figure 5: the audit log with many rows in the embedded database. Get-AnalysisLog -Dataset x -User y
    -First 20 and a one-day date range, timed in-process; memory while streaming; sqlite3 CLI as peer.
.DESCRIPTION
    The rows go in from a small C# loop (Add-Type) in a child pwsh, so this process's memory is not
    inflated by the fill: all but the newest -Submissions through Core's SqliteAuditLog.Append in one
    transaction (the SQLite run log's own append step; a million submissions one at a time would take
    hours), the newest as submissions through IRunLog.AppendAsync, timed. Run i has dataset
    ds((i/7) mod 20), user user(i mod 200)@example.org and timestamp 2024-01-01 + 90 s × i.
#>
param(
    [Parameter(Mandatory)] [string] $OutFile,
    [Parameter(Mandatory)] [string] $WorkRoot,
    [int] $Rows = 1000000,
    [int] $Runs = 10,
    # Of the rows, this many (the newest) are appended one submission at a time through IRunLog.AppendAsync.
    [int] $Submissions = 100,
    # Internal: 'fill' only populates the home (run as a child process).
    [ValidateSet('all', 'fill')] [string] $Phase = 'all',
    [string] $RunnerHome
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner

$datasets = 20; $users = 200; $stepSeconds = 90
$start = [DateTimeOffset]::new(2024, 1, 1, 0, 0, 0, [TimeSpan]::Zero)

$fillFile = Join-Path $WorkRoot 'audit-log-fill.json'   # what the fill reports back to this script's parent run

if ($Phase -eq 'fill') {
    $deployment = [AnalysisRunner.Core.Hosting.Deployment]::Open([AnalysisRunner.Core.Hosting.RunnerHome]::new($RunnerHome))
    $core = [AnalysisRunner.Core.Hosting.RunnerHome].Assembly.Location
    $sqlite = Join-Path (Split-Path $core) 'Microsoft.Data.Sqlite.dll'
    Add-Type -ReferencedAssemblies $core, $sqlite, 'System.Data.Common', 'System.Collections', 'System.Linq', 'System.Runtime',
        'System.Threading.Tasks' -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Config;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Log;
using AnalysisRunner.Core.Runs;

public sealed class BenchAuditFill
{
    private readonly int _datasets, _users, _stepSeconds;
    private readonly DateTimeOffset _start;
    private readonly ConfigStore _configs;

    public BenchAuditFill(ConfigStore configs, int datasets, int users, DateTimeOffset start, int stepSeconds)
    {
        _configs = configs; _datasets = datasets; _users = users; _start = start; _stepSeconds = stepSeconds;
    }

    /// <summary>
    /// Runs <paramref name="from"/> to <paramref name="to"/> (exclusive) in one transaction through the
    /// SQLite audit log's own append step, the one SqliteRunLog takes inside each submission's
    /// transaction: a million submissions one by one (config file, fsync'd commit, driver batch each)
    /// would take hours, and the figure is about reading a big log, not filling it.
    /// </summary>
    public int Bulk(RunnerDatabase db, int from, int to)
    {
        var log = new SqliteAuditLog(db);
        return db.InTransaction((connection, transaction) =>
        {
            for (var i = from; i < to; i++) log.Append(Run(i) with { DriverBatchId = i + 1 }, connection, transaction);
            return to - from;
        });
    }

    /// <summary>Runs <paramref name="from"/> to <paramref name="to"/> submitted one at a time through the run log, as Submit-Analysis writes them; milliseconds per submission.</summary>
    public async Task<double[]> SubmitAsync(IRunLog log, int from, int to)
    {
        var times = new List<double>(to - from);
        for (var i = from; i < to; i++)
        {
            var run = Run(i);
            var driver = new BatchSpec
            {
                Name = run.Dataset + "/test: " + run.Description,
                ArGuid = run.ArGuid,
                ConfigPath = run.ConfigPath,
                TmpRoot = "/buckets/cpg-" + run.Dataset + "-test-tmp/batch",
                Jobs = new[] { new JobSpec { Index = 0, Name = "driver", Commands = new[] { "./run.sh --sample S" + i } } },
            };
            var clock = Stopwatch.StartNew();
            await log.AppendAsync(new RunSubmission(run, "[workflow]\ndataset = \"" + run.Dataset + "\"\n", driver)).ConfigureAwait(false);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times.ToArray();
    }

    private RunRecord Run(int i)
    {
        var arGuid = Guid.NewGuid().ToString();
        var dataset = "ds" + ((i / 7) % _datasets).ToString("D2");
        return new RunRecord
        {
            ArGuid = arGuid,
            Timestamp = _start.AddSeconds((double)i * _stepSeconds),
            User = "user" + (i % _users).ToString("D3") + "@example.org",
            Dataset = dataset,
            AccessLevel = AccessLevel.Test,
            Repository = "populationgenomics/bench",
            Commit = "0123456789abcdef0123456789abcdef01234567",
            Cwd = ".",
            Script = "run.sh",
            ScriptArguments = new List<string> { "--sample", "S" + i },
            Description = "bench run " + i,
            OutputPrefix = "bench/" + i,
            OutputDir = "/buckets/cpg-" + dataset + "-test/bench/" + i,
            ConfigPath = _configs.PathFor(arGuid),
        };
    }
}
'@
    $fill = [BenchAuditFill]::new($deployment.Configs, $datasets, $users, $start, $stepSeconds)
    # The newest rows go in as real submissions, so the run log's write path is exercised (and timed) too.
    $submitted = [Math]::Min($Submissions, $Rows)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    [void]$fill.Bulk($deployment.Database, 0, $Rows - $submitted)
    $bulkSeconds = $clock.Elapsed.TotalSeconds
    # Awaited once here: the loop itself awaits each append.
    $submissionMs = @($fill.SubmitAsync($deployment.RunLog, $Rows - $submitted, $Rows).GetAwaiter().GetResult())
    Write-BenchLine "filled $($Rows - $submitted) rows in one transaction in $(Format-Number $bulkSeconds 1) s, then $submitted submissions through IRunLog.AppendAsync"
    @{ bulkRows = $Rows - $submitted; bulkSeconds = $bulkSeconds; submissionMs = $submissionMs } | ConvertTo-Json | Set-Content $fillFile
    return
}

function Get-RssMiB { [double]((Get-Content /proc/self/status | Where-Object { $_ -like 'VmRSS:*' }) -split '\s+')[1] / 1024 }

$runnerHome = New-BenchDirectory $WorkRoot 'audit-log-home'
$env:AR_HOME = $runnerHome
$pwsh = Get-PwshCommand
$fillSeconds = Invoke-TimedProcess $pwsh.File (@($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-File', $PSCommandPath,
    '-OutFile', $OutFile, '-WorkRoot', $WorkRoot, '-Rows', $Rows, '-Submissions', $Submissions, '-Phase', 'fill', '-RunnerHome', $runnerHome))
$fill = Get-Content -Raw $fillFile | ConvertFrom-Json
$database = Join-Path $runnerHome 'runner.db'

# The pair and the day every query asks for: those of the middle row.
$mid = [int]($Rows / 2)
$dataset = 'ds' + ([int]([Math]::Floor($mid / 7) % $datasets)).ToString('D2')
$user = 'user' + ([int]($mid % $users)).ToString('D3') + '@example.org'
$dayStart = $start.AddSeconds([double]$mid * $stepSeconds).UtcDateTime.Date
$dayEnd = $dayStart.AddDays(1)
$after = [DateTime]::SpecifyKind($dayStart, 'Utc'); $before = [DateTime]::SpecifyKind($dayEnd, 'Utc')
$afterMs = ([DateTimeOffset]$after).ToUnixTimeMilliseconds(); $beforeMs = ([DateTimeOffset]$before).ToUnixTimeMilliseconds()

$columns = 'ar_guid, timestamp_ms, timestamp_offset_minutes, user, dataset, access_level, repository, commit_sha, cwd, ' +
    'script, script_arguments, description, output_prefix, output_dir, config_path, driver_batch_id, image, cpu, ' +
    'memory, storage, preemptible, environment, config_files, config_snapshots, skip_repo_checkout, rerun_of'
$queries = @(
    @{
        Name = "Get-AnalysisLog -Dataset $dataset -User $user -First 20"
        Ours = { @(Get-AnalysisLog -Dataset $dataset -User $user -First 20) }
        Sql = "SELECT $columns FROM audit_log INDEXED BY audit_log_dataset_user_timestamp WHERE dataset = '$dataset' AND user = '$user' ORDER BY timestamp_ms DESC, id DESC LIMIT 20;"
    }
    @{
        Name = "Get-AnalysisLog -After $($dayStart.ToString('yyyy-MM-dd')) -Before $($dayEnd.ToString('yyyy-MM-dd')) (one day)"
        Ours = { @(Get-AnalysisLog -After $after -Before $before) }
        Sql = "SELECT $columns FROM audit_log WHERE timestamp_ms >= $afterMs AND timestamp_ms < $beforeMs ORDER BY timestamp_ms DESC, id DESC;"
    }
)

$haveSqlite = [bool](Get-Command sqlite3 -ErrorAction SilentlyContinue)
$rssBefore = Get-RssMiB
$rowsOut = @()
$notes = [System.Collections.Generic.List[string]]::new()
foreach ($query in $queries) {
    $returned = (& $query.Ours).Count   # warm-up
    $ours = @(for ($i = 0; $i -lt $Runs; $i++) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        [void](& $query.Ours)
        $clock.Elapsed.TotalMilliseconds
    })
    $oursStat = Get-Stat $ours
    $peer = '—'; $ratio = '—'
    if ($haveSqlite) {
        [void](Invoke-TimedProcess sqlite3 @($database, $query.Sql))
        $peerStat = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { (Invoke-TimedProcess sqlite3 @($database, $query.Sql)) * 1000 })
        $timer = (".timer on`n$($query.Sql)`n" | sqlite3 $database | Select-String 'Run Time: real ([0-9.]+)' | Select-Object -Last 1).Matches[0].Groups[1].Value
        $peer = "$(Format-Ms $peerStat 1) sqlite3 CLI (process; engine $(Format-Number ([double]$timer * 1000) 0) ms)"
        $ratio = "$(Format-Number ($oursStat.Median / $peerStat.Median) 2)× (medians)"
    }
    Write-BenchLine "$($query.Name): $returned rows, $(Format-Ms $oursStat 1)"
    $rowsOut += New-ResultRow -Figure "5. $($query.Name), $Rows rows in the log ($returned returned)" -Ours (Format-Ms $oursStat 1) `
        -Peer $peer -Ratio $ratio -Target '≤ 50 ms' -Met ($oursStat.Median -le 50)
}
$rssAfter = Get-RssMiB

# Memory flat: stream every row of one dataset through the pipeline, sampling RSS every 1,000 rows.
$peak = Get-RssMiB; $streamed = 0
Get-AnalysisLog -Dataset $dataset | ForEach-Object {
    $streamed++
    if ($streamed % 1000 -eq 0) { $rss = Get-RssMiB; if ($rss -gt $peak) { $peak = $rss } }
}
$rowsOut += New-ResultRow -Figure "5. Memory: RSS of this pwsh" -Ours ("$(Format-Number $rssBefore 0) MiB before the queries, $(Format-Number $rssAfter 0) MiB after; " +
    "peak $(Format-Number $peak 0) MiB while streaming all $streamed rows of $dataset") -Target 'flat' -Met (($peak - $rssAfter) -lt 64)
if (-not $haveSqlite) { $notes.Add('Audit log: no peer, sqlite3 is not installed.') }
$submissionStat = if (@($fill.submissionMs).Count) { Format-Ms (Get-Stat @($fill.submissionMs)) 1 } else { '—' }
$notes.Add("Audit log: the log was filled in a child pwsh (Add-Type loop, $(Format-Number $fillSeconds 1) s in all): $($fill.bulkRows) rows in one transaction through SqliteAuditLog.Append, the append step SqliteRunLog takes in each submission's transaction, in $(Format-Number $fill.bulkSeconds 1) s; then the newest $(@($fill.submissionMs).Count) as submissions through IRunLog.AppendAsync (config, audit row and driver batch each), $submissionStat per submission; each query warmed up once, then $Runs timed runs in this pwsh; the sqlite3 peer runs the SQL Get-AnalysisLog runs, as a fresh CLI process each time. Memory counts as flat if streaming a whole dataset raises RSS by < 64 MiB.")
Save-FigureResult -Path $OutFile -Name 'audit-log' -Rows $rowsOut -Notes $notes
