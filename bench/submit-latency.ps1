<#
.SYNOPSIS
    Figure 2: submission latency on the embedded default. Submit-Analysis to the driver's first line,
    against the floor: one pwsh start + `git clone --local` of the same repository at the same commit +
    running the script. And Submit-Batch to its job's first command, with a warm executor (target < 100 ms).
.DESCRIPTION
    Ours is timed inside this pwsh (module imported, one untimed submission first): the clock is the
    wall clock read before Submit-Analysis (Submit-Batch), and the end is the time the job's first
    command printed in its output ($EPOCHREALTIME, read back from the job's log with Get-BatchJobLog
    after the batch ends), so nothing polls meanwhile. "Cold" stops the executor before each submission,
    so the submission starts one (the usual case: it exits after 30 s idle); "warm" submits to a running
    executor. The driver script prints a line at once. The home is the embedded default, so its jobs
    run in the per-batch sandbox where bwrap is installed; there /tmp (where this bench's work root
    usually is) is the sandbox's own, which is why the time comes back through the log, not a file.
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Runs = 5)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner

# The first command prints the wall clock; the job's log carries it back (see the description for why not a file).
$marker = 'first line at'
$script = "#!/usr/bin/env bash`necho `"$marker `$EPOCHREALTIME`"`n"
$world = New-BenchWorld -Root (New-BenchDirectory $WorkRoot 'latency') -Files @{ 'bench/first-line.sh' = $script }
$pwsh = Get-PwshCommand

<# Milliseconds from $Start (a wall-clock reading) to the time the only job of batch $BatchId printed its marker line. #>
function Get-MillisecondsSince([DateTimeOffset] $Start, [long] $BatchId) {
    $job = @(Get-BatchJob -BatchId $BatchId)
    if ($job.Count -ne 1) { throw "Batch $BatchId has $($job.Count) jobs; the bench submits one." }
    $lines = @(Get-BatchJobLog -BatchId $BatchId -JobId $job[0].JobId -Stream Stdout)
    $line = $lines | Where-Object { $_ -like "$marker *" } | Select-Object -First 1
    if (-not $line) { throw "Job $BatchId/$($job[0].JobId) printed no '$marker' line; its output: $($lines -join ' | ')" }
    $written = [double]::Parse($line.Substring($marker.Length).Trim(), [Globalization.CultureInfo]::InvariantCulture)
    $written * 1000 - $Start.ToUnixTimeMilliseconds() - ($Start.Ticks % 10000) / 10000
}

function Measure-Submission {
    $start = [DateTimeOffset]::UtcNow
    $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'bench latency' -OutputDir 'bench/latency' first-line.sh 6>$null
    $done = $run | Wait-Batch -Timeout 120 6>$null
    if ("$($done.State)" -ne 'Succeeded') { throw "The driver of batch $($run.DriverBatchId) ended $($done.State)." }
    Get-MillisecondsSince $start $run.DriverBatchId
}

<# Submit-Batch of one job to its first command, with the executor already running. #>
function Measure-BatchStart {
    $batch = New-Batch -Name 'bench first start'
    $batch | Add-BatchJob -Name first | Add-BatchJobCommand "echo `"$marker `$EPOCHREALTIME`"" | Out-Null
    $start = [DateTimeOffset]::UtcNow
    $submitted = $batch | Submit-Batch 6>$null
    $done = Wait-Batch -Id $submitted.Id -Timeout 120 6>$null
    if ("$($done.State)" -ne 'Succeeded') { throw "Batch $($submitted.Id) ended $($done.State)." }
    Get-MillisecondsSince $start $submitted.Id
}

function Measure-Floor([int] $Run) {
    $clone = Join-Path $world.Root "floor-$Run"
    $pwshStart = Invoke-TimedProcess $pwsh.File (@($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-c', '1'))
    $cloneTime = Invoke-TimedProcess git @('clone', '--local', '-q', '--no-checkout', $world.Origin, $clone)
    $cloneTime += Invoke-TimedProcess git @('-C', $clone, 'checkout', '-q', '--detach', $world.Commit)
    $scriptTime = Invoke-TimedProcess (Join-Path $clone 'bench/first-line.sh') @() -WorkingDirectory (Join-Path $clone 'bench')
    Remove-Item -Recurse -Force $clone
    ($pwshStart + $cloneTime + $scriptTime) * 1000
}

Push-Location (Join-Path $world.Checkout 'bench')
try {
    [void](Measure-Submission)   # untimed: the home's first use and the remote mirror are set up once
    [void](Measure-Floor 0)
    [void](Measure-BatchStart)
    $cold = @(); $warm = @(); $floor = @(); $batchStart = @()
    for ($i = 1; $i -le $Runs; $i++) {
        $f = Measure-Floor $i
        Stop-BenchExecutor $world.Home
        $c = Measure-Submission
        $w = Measure-Submission   # the executor started by the cold submission is still up
        $b = @(1..2 | ForEach-Object { Measure-BatchStart })
        $floor += $f; $cold += $c; $warm += $w; $batchStart += $b
        Write-BenchLine "run ${i}: floor $([int]$f) ms, ours cold $([int]$c) ms, warm $([int]$w) ms; Submit-Batch to first command $(($b | ForEach-Object { [int]$_ }) -join ', ') ms (load $((Get-Content /proc/loadavg) -split ' ' | Select-Object -First 1))"
    }
}
finally {
    Pop-Location
    Stop-BenchExecutor $world.Home
}

$floorStat = Get-Stat $floor
$rows = foreach ($case in @(@{ Name = 'cold executor'; Samples = $cold }, @{ Name = 'warm executor'; Samples = $warm })) {
    $stat = Get-Stat $case.Samples
    $over = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $case.Samples[$i] - $floor[$i] })
    $ratio = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $case.Samples[$i] / $floor[$i] })
    New-ResultRow -Figure "2. Submit-Analysis → driver's first line ($($case.Name))" -Ours (Format-Ms $stat) `
        -Peer "$(Format-Ms $floorStat) floor" -Ratio "$(Format-Ratio $ratio); over floor $(Format-Ms $over)" `
        -Target '≤ 300 ms over floor' -Met ($over.Median -le 300)
}
$rows = @($rows) + @(New-ResultRow -Figure "2. Submit-Batch → its job's first command (warm executor)" -Ours (Format-Ms (Get-Stat $batchStart)) `
    -Target '< 100 ms' -Met ((Get-Stat $batchStart).Median -lt 100))
# The embedded default (sandbox "auto") runs jobs unsandboxed only where the sandbox cannot start, and its executor says so.
$executorLog = Join-Path $world.Home 'executor.log'
$sandboxed = -not ((Test-Path $executorLog) -and (Select-String -Quiet -SimpleMatch 'SandboxNotAvailable' $executorLog))
Save-FigureResult -Path $OutFile -Name 'latency' -Rows $rows -Notes @(
    "Latency: $Runs runs; floor = ``dotnet pwsh.dll -NoProfile -c 1`` + ``git clone --local --no-checkout`` + ``git checkout <commit>`` + the script, each timed as a process; ours from the wall clock before Submit-Analysis to the time the driver's script printed as its first command (```$EPOCHREALTIME`` in its output; read with Get-BatchJobLog after the run, nothing polls), cold = executor stopped before the submission, warm = executor running. Submit-Batch: $(2 * $Runs) one-job batches to a running executor, from before Submit-Batch to the job's first command. Jobs ran $(if ($sandboxed) { 'in the per-batch sandbox (the embedded default where bwrap is installed)' } else { 'unsandboxed (the executor found no sandbox: see its log)' })."
)
