<#
.SYNOPSIS
    Figure 8: what durability costs a transition: one commit of the executor's ledger with SQLite's
    synchronous=NORMAL against FULL (WAL mode, as the runner uses it), with 1 and with 10 job updates
    per round (the scheduler writes a round of transitions in one transaction).
.DESCRIPTION
    A table like the jobs table (10,000 rows) in a database under the work folder (this machine's
    disk, where runner homes live). Each round: BEGIN IMMEDIATE, k UPDATEs, COMMIT; the COMMIT is timed
    (that is where FULL syncs the WAL). Rounds of the two settings alternate.
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Rounds = 300)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner
# The module's own copy of Microsoft.Data.Sqlite and its native SQLite, as the runner uses them.
Add-Type -Path (Join-Path (Split-Path (Get-Module AnalysisRunner).Path) 'Microsoft.Data.Sqlite.dll')

New-Item -ItemType Directory -Force $WorkRoot | Out-Null
function Open-Database([string] $Synchronous) {
    $path = Join-Path $WorkRoot "commit-$Synchronous.db"
    $connection = [Microsoft.Data.Sqlite.SqliteConnection]::new("Data Source=$path;Pooling=False")
    $connection.Open()
    $command = $connection.CreateCommand()
    $command.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=$Synchronous; CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT, ended TEXT);"
    [void]$command.ExecuteNonQuery()
    $command.CommandText = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999) INSERT INTO jobs SELECT i, 'Pending', NULL FROM n"
    [void]$command.ExecuteNonQuery()
    $update = $connection.CreateCommand()
    $update.CommandText = "UPDATE jobs SET state = 'Succeeded', ended = @now WHERE id = @id"
    [void]$update.Parameters.AddWithValue('@now', 'x'); [void]$update.Parameters.AddWithValue('@id', 0)
    [pscustomobject]@{ Connection = $connection; Update = $update }
}

function Measure-Commit($Database, [int] $Updates, [int] $Round) {
    $transaction = $Database.Connection.BeginTransaction($false)
    $Database.Update.Transaction = $transaction
    for ($j = 0; $j -lt $Updates; $j++) { $Database.Update.Parameters['@id'].Value = ($Round * $Updates + $j) % 10000; [void]$Database.Update.ExecuteNonQuery() }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $transaction.Commit()
    $clock.Stop()
    $clock.Elapsed.TotalMilliseconds
}

$normal = Open-Database NORMAL
$full = Open-Database FULL
$load = [double]((Get-Content /proc/loadavg) -split ' ')[0]
$rows = foreach ($updates in 1, 10) {
    $n = @(); $f = @()
    for ($r = 0; $r -lt $Rounds; $r++) { $n += Measure-Commit $normal $updates $r; $f += Measure-Commit $full $updates $r }
    $ratio = (Get-Stat $f).Median / (Get-Stat $n).Median
    Write-BenchLine "commit of $updates update(s): NORMAL $(Format-Ms (Get-Stat $n) 3), FULL $(Format-Ms (Get-Stat $f) 3)"
    New-ResultRow -Figure "8. One commit of $updates job transition(s), synchronous=NORMAL (the executor's) vs FULL" -Ours "NORMAL $(Format-Ms (Get-Stat $n) 3)" `
        -Peer "FULL $(Format-Ms (Get-Stat $f) 3)" -Ratio "FULL costs $(Format-Number $ratio 0)× (medians)" -Target 'reported (decides the setting)'
}
$normal.Connection.Dispose(); $full.Connection.Dispose()
Save-FigureResult -Path $OutFile -Name 'durability' -Rows $rows -Notes @(
    "Commit cost: $Rounds alternating rounds per setting and size, WAL mode, the COMMIT timed, in $WorkRoot (load average $load at the start). NORMAL: a commit survives the process being killed, and after an OS crash the file is consistent but may have lost its last commits (the executor's exit ledger then says what finished). FULL: every commit is synced and survives an OS crash. The executor commits NORMAL; clients' submissions, cancels and removals commit FULL (one sync per command)."
)
