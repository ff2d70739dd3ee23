<#
.SYNOPSIS
    Figure 11: what a client spends while it waits for a 1,000-job DAG, beside the same pwsh doing nothing.
.DESCRIPTION
    Issue 14 asks that a waiting client cost next to nothing. pwsh's own runtime keeps compiling in
    the background after a script has built a large batch (tier-1 re-compiling of what building made
    hot), whether the script then waits or sleeps, and a module cannot switch that off in its user's
    pwsh. So the wait is measured against a control in the same process, in rounds:
    1. the DAG: N jobs built with New-Batch/Add-BatchJob (each job cats the output of the job ten
       before it), Submit-Batch, then Wait-Batch timed and its CPU measured (progress not shown);
    2. the control: the same N jobs built again, not submitted, then Start-Sleep for as long as that
       wait took;
    3. one job `sleep <as long>`: the same wait with one job instead of N;
    4. Wait-Batch on the DAG once it has ended: what the cmdlet's call costs without any waiting.
    Each is this process's CPU over the wait (or the sleep), split by thread: live threads other than
    the runtime's compiler ("the wait itself"), the compiler's thread, and threads that ended meanwhile
    (the runtime's compiler and thread-pool workers come and go).
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Jobs = 1000, [int] $Runs = 3)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner
$env:AR_EXECUTOR_IDLE_SECONDS = '60'

function New-ChainBatch([int] $N) {
    $batch = New-Batch -Name "client wait $N"
    $outs = [string[]]::new($N)
    for ($i = 0; $i -lt $N; $i++) {
        $job = Add-BatchJob -Batch $batch -Name "j$i"
        $outs[$i] = "$($job.Out)"
        $command = if ($i -lt 10) { "echo root > $($outs[$i])" } else { "cat $($outs[$i - 10]) > $($outs[$i])" }
        Add-BatchJobCommand -Job $job -Command $command
    }
    $batch
}

function New-WaitHome([string] $Name) {
    $runnerHome = New-BenchDirectory $WorkRoot $Name
    $env:AR_HOME = $runnerHome
    Set-Content (Join-Path $runnerHome 'settings.toml') "[executor]`nsandbox = `"none`""
    $runnerHome
}

function Complete-WaitHome([string] $RunnerHome, $Info) {
    if ("$($Info.State)" -ne 'Succeeded') { throw "A batch in $RunnerHome ended $($Info.State)." }
    Stop-BenchExecutor $RunnerHome
    Remove-Item -Recurse -Force $RunnerHome
}

$dag = @(); $ended = @(); $idle = @(); $single = @(); $loads = @()
for ($r = 1; $r -le $Runs; $r++) {
    $loads += [double](Get-Content /proc/loadavg).Split(' ')[0]

    $runnerHome = New-WaitHome "wait-dag-$r"
    $submitted = Submit-Batch -Batch (New-ChainBatch $Jobs) 6>$null
    $d = Measure-ClientCpu { Wait-Batch -Id $submitted.Id -Timeout 3600 6>$null }
    $e = Measure-ClientCpu { Wait-Batch -Id $submitted.Id -Timeout 3600 6>$null }
    Complete-WaitHome $runnerHome $d.Result
    $dag += $d; $ended += $e

    $null = New-ChainBatch $Jobs
    $i = Measure-ClientCpu { Start-Sleep -Milliseconds ([int]($d.Seconds * 1000)) }
    $idle += $i

    $runnerHome = New-WaitHome "wait-one-$r"
    $batch = New-Batch -Name 'client wait, one job'
    Add-BatchJobCommand -Job (Add-BatchJob -Batch $batch -Name sleep) -Command "sleep $([Math]::Ceiling($d.Seconds))"
    $submitted = Submit-Batch -Batch $batch 6>$null
    $s = Measure-ClientCpu { Wait-Batch -Id $submitted.Id -Timeout 3600 6>$null }
    Complete-WaitHome $runnerHome $s.Result
    $single += $s

    $ms = { param($x) [int]($x * 1000) }
    Write-BenchLine ("round ${r}: DAG wait $(Format-Number $d.Seconds 1) s, CPU $(& $ms $d.Total) ms (wait itself $(& $ms $d.Wait); the call on the ended batch $(& $ms $e.Wait)); " +
        "idle control $(& $ms $i.Total) ms (live threads $(& $ms $i.Wait)); one-job wait $(Format-Number $s.Seconds 1) s, CPU $(& $ms $s.Total) ms (wait itself $(& $ms $s.Wait)); load $($loads[-1])")
}

$stat = { param($samples, $property) Format-Ms (Get-Stat @($samples | ForEach-Object { $_.$property * 1000 })) }
# The first round's wait also compiles the wait's code path: the rounds after it show the steady cost.
$waiting = Get-Stat @(for ($k = 0; $k -lt $Runs; $k++) { ($dag[$k].Wait - $ended[$k].Wait) * 1000 })
$rows = @(
    New-ResultRow -Figure "11. Client CPU while waiting for a $Jobs-job DAG, beside the same pwsh idle as long" `
        -Ours "in all $(& $stat $dag 'Total'), of which the wait itself $(& $stat $dag 'Wait'); the same Wait-Batch on the ended batch $(& $stat $ended 'Wait')" `
        -Peer "idle control: in all $(& $stat $idle 'Total'), of which live threads $(& $stat $idle 'Wait')" `
        -Ratio "waiting (wait itself − the call on the ended batch): $(Format-Ms $waiting)" -Target 'waiting ≤ 50 ms' -Met ($waiting.Median -le 50)
    New-ResultRow -Figure "11. Client CPU while waiting: one ``sleep`` job as long as the DAG" `
        -Ours "in all $(& $stat $single 'Total'); the wait itself $(& $stat $single 'Wait')" -Target 'reported (the wait does not grow with jobs)'
)
Save-FigureResult -Path $OutFile -Name 'client-wait' -Rows $rows -Notes @(
    "Client wait: $Runs rounds of (a $Jobs-job DAG waited for; the same jobs built again and not submitted, then the pwsh asleep as long; one ``sleep`` job as long, waited for), unsandboxed, fresh runner home and executor for each wait; CPU is this pwsh's own over the wait or the sleep, the wait itself being its live threads other than the runtime's compiler; load average (1 min) before each round: $(($loads | ForEach-Object { Format-Number $_ 1 }) -join ', ')."
)
