<#
.SYNOPSIS
    Figure 2: submission latency on the embedded default, from the start of Submit-Analysis to the
    driver's first output line, against the floor: one pwsh start + `git clone --local` of the same
    repository at the same commit + running the script.
.DESCRIPTION
    Ours is timed inside this pwsh (module imported, one untimed submission first): a stopwatch starts
    before Submit-Analysis and stops when the driver job's stdout log holds its first line (read in a
    1 ms loop). "Cold" stops the executor before each submission, so the submission starts one (the
    usual case: it exits after 30 s idle); "warm" submits to a running executor. The driver script
    prints a line at once.
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Runs = 5)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner

$script = "#!/usr/bin/env bash`necho first line`n"
$world = New-BenchWorld -Root (New-BenchDirectory $WorkRoot 'latency') -Files @{ 'bench/first-line.sh' = $script }
$runnerHome = [AnalysisRunner.Core.Hosting.RunnerHome]::new($world.Home)
$pwsh = Get-PwshCommand

function Measure-Submission {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'bench latency' -OutputDir 'bench/latency' first-line.sh 6>$null
    $log = [AnalysisRunner.Core.Batch.JobLogFiles]::For($runnerHome, $run.DriverBatchId, 1, 1).Stdout
    while ($true) {
        if ([IO.File]::Exists($log) -and [IO.File]::ReadAllText($log).Contains("`n")) { break }
        if ($clock.Elapsed.TotalSeconds -gt 120) { throw "The driver of batch $($run.DriverBatchId) printed nothing in 120 s ($log)." }
        [Threading.Thread]::Sleep(1)
    }
    $clock.Stop()
    $first = ([IO.File]::ReadAllText($log) -split "`n")[0]
    if ($first -ne 'first line') { throw "The driver printed '$first', not 'first line'." }
    $run | Wait-Batch 6>$null | Out-Null
    $clock.Elapsed.TotalMilliseconds
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
    $cold = @(); $warm = @(); $floor = @()
    for ($i = 1; $i -le $Runs; $i++) {
        $f = Measure-Floor $i
        Stop-BenchExecutor $world.Home
        $c = Measure-Submission
        $w = Measure-Submission   # the executor started by the cold submission is still up
        $floor += $f; $cold += $c; $warm += $w
        Write-BenchLine "run ${i}: floor $([int]$f) ms, ours cold $([int]$c) ms, warm $([int]$w) ms"
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
Save-FigureResult -Path $OutFile -Name 'latency' -Rows $rows -Notes @(
    "Latency: $Runs runs; floor = ``dotnet pwsh.dll -NoProfile -c 1`` + ``git clone --local --no-checkout`` + ``git checkout <commit>`` + the script, each timed as a process; ours from before Submit-Analysis to the first line in the driver's stdout log (polled every 1 ms), cold = executor stopped before the submission, warm = executor running."
)
