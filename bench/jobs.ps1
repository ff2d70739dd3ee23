<#
.SYNOPSIS
    Figure 7: 1,000 independent `true` jobs through ours against `xargs -P2 -n1 bash -c true` (target ≤ 1.5×).
.DESCRIPTION
    What a job costs the runner with nothing else in it: no resources, no DAG, every job a bash that
    runs `true`. Ours: a batch of N jobs built untimed, then timed from Submit-Batch to the end of
    Wait-Batch, in a fresh runner home per run with no executor running before it (its start is
    included); CPU split into the executor's own and its jobs'. The peer: `seq N | xargs -P2 -n1 bash
    -c true` in bash, timed as a process; its CPU is this pwsh's children's. Runs alternate. One more
    run of ours shows the progress bar while it waits, for the client's CPU with progress reads.
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Jobs = 1000, [int] $Runs = 5)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner
$env:AR_EXECUTOR_IDLE_SECONDS = '60'   # stays up after the batch so its CPU can be read; stopped explicitly

function Invoke-Ours([int] $Run, [switch] $ShowProgress, [double] $SettleSeconds = 0) {
    $runnerHome = New-BenchDirectory $WorkRoot "ours-$Run"
    $env:AR_HOME = $runnerHome
    # Unsandboxed, as figure 3's main rows: the jobs are then the executor's children, so their CPU is in its
    # children's time (sandboxed they are the batch launcher's, inside bwrap; figure 3 has the sandbox's own row).
    Set-Content (Join-Path $runnerHome 'settings.toml') "[executor]`nsandbox = `"none`""
    $batch = New-Batch -Name "bench true $Jobs"
    for ($i = 0; $i -lt $Jobs; $i++) { Add-BatchJob -Batch $batch -Name "t$i" | Add-BatchJobCommand 'true' | Out-Null }
    $self = [Diagnostics.Process]::GetCurrentProcess()
    $settleCpu = $null
    if ($SettleSeconds -gt 0) {
        # A control: the same pwsh idle for a while first. What it spends then is the runtime
        # re-compiling (tier 1) the code the building loop made hot, which it does whenever pwsh goes quiet.
        $self.Refresh(); $before = $self.TotalProcessorTime
        Start-Sleep -Milliseconds ([int]($SettleSeconds * 1000))
        $self.Refresh(); $settleCpu = ($self.TotalProcessorTime - $before).TotalSeconds
    }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $submitted = Submit-Batch -Batch $batch 6>$null
    # -ProgressAction, not $ProgressPreference: set in this function the variable would be a string
    # (Wait-Batch reads either, as PowerShell does; until it did, a string 'SilentlyContinue' here made every run follow progress).
    $progressAction = if ($ShowProgress) { 'Continue' } else { 'SilentlyContinue' }
    $wait = Measure-ClientCpu { Wait-Batch -Id $submitted.Id -Timeout 3600 -ProgressAction $progressAction 6>$null }
    $info = $wait.Result
    $clock.Stop()
    if ("$($info.State)" -ne 'Succeeded') { throw "Our batch of $Jobs true jobs ended $($info.State)." }
    $executorPid = Get-ExecutorProcessId $runnerHome
    $cpu = if ($executorPid) { Get-ProcessCpuSeconds $executorPid } else { $null }
    Stop-BenchExecutor $runnerHome
    Remove-Item -Recurse -Force $runnerHome
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; ExecutorCpu = $cpu.Own; JobsCpu = $cpu.Children; ClientCpu = $wait.Total; ClientWaitCpu = $wait.Wait; ClientCompilerCpu = $wait.Background; SettleCpu = $settleCpu }
}

function Invoke-Xargs([int] $Run) {
    $before = (Get-ProcessCpuSeconds $PID).Children
    $seconds = Invoke-TimedProcess bash @('-c', "seq $Jobs | xargs -P2 -n1 bash -c true") -LogPath (Join-Path $WorkRoot "xargs-$Run.log")
    [pscustomobject]@{ Seconds = $seconds; Cpu = (Get-ProcessCpuSeconds $PID).Children - $before }
}

New-Item -ItemType Directory -Force $WorkRoot | Out-Null
[void](Invoke-Ours 0)   # untimed: the module's and the executor's first use
$ours = @(); $xargs = @(); $ratios = @(); $executorCpu = @(); $jobsCpu = @(); $xargsCpu = @(); $clientCpu = @(); $clientWaitCpu = @(); $clientCompilerCpu = @(); $loads = @()
for ($r = 1; $r -le $Runs; $r++) {
    $loads += [double]((Get-Content /proc/loadavg) -split ' ')[0]
    $o = Invoke-Ours $r
    $x = Invoke-Xargs $r
    $ours += $o.Seconds; $xargs += $x.Seconds; $ratios += $o.Seconds / $x.Seconds
    $executorCpu += $o.ExecutorCpu; $jobsCpu += $o.JobsCpu; $xargsCpu += $x.Cpu; $clientCpu += $o.ClientCpu; $clientWaitCpu += $o.ClientWaitCpu; $clientCompilerCpu += $o.ClientCompilerCpu
    Write-BenchLine "$Jobs true jobs, run ${r}: ours $(Format-Number $o.Seconds 2) s (CPU executor $(Format-Number $o.ExecutorCpu 2) s + jobs $(Format-Number $o.JobsCpu 2) s, client waiting $([int]($o.ClientCpu * 1000)) ms: the wait $([int]($o.ClientWaitCpu * 1000)), the runtime's compiler $([int]($o.ClientCompilerCpu * 1000))), xargs $(Format-Number $x.Seconds 2) s (CPU $(Format-Number $x.Cpu 2) s); load $($loads[-1])"
}
$progress = Invoke-Ours ($Runs + 1) -ShowProgress
Write-BenchLine "with the progress bar: ours $(Format-Number $progress.Seconds 2) s, client waiting $([int]($progress.ClientCpu * 1000)) ms (the wait $([int]($progress.ClientWaitCpu * 1000)))"
$settled = Invoke-Ours ($Runs + 2) -SettleSeconds 5
Write-BenchLine "idle 5 s after building the batch: $([int]($settled.SettleCpu * 1000)) ms of CPU while idle, then $([int]($settled.ClientCpu * 1000)) ms while waiting (the wait $([int]($settled.ClientWaitCpu * 1000)))"

$perJob = { param($samples) Format-Number ((Get-Stat $samples).Median * 1000 / $Jobs) 2 }
$ratio = Get-Stat $ratios
$rows = @(
    New-ResultRow -Figure "7. $Jobs independent ``true`` jobs vs ``xargs -P2 -n1 bash -c true``" -Ours (Format-Seconds (Get-Stat $ours)) `
        -Peer "xargs $(Format-Seconds (Get-Stat $xargs))" -Ratio (Format-Ratio $ratio) -Target '≤ 1.5×' -Met ($ratio.Median -le 1.5)
    New-ResultRow -Figure "7. CPU per job, $Jobs true jobs: our executor, our jobs, vs xargs's whole tree" `
        -Ours "executor $(& $perJob $executorCpu) ms + jobs $(& $perJob $jobsCpu) ms" -Peer "xargs $(& $perJob $xargsCpu) ms (xargs and its bash)" -Target 'reported'
    New-ResultRow -Figure "7. Client CPU while waiting, $Jobs true jobs" `
        -Ours "the wait itself $(Format-Ms (Get-Stat @($clientWaitCpu | ForEach-Object { $_ * 1000 }))) without the progress bar, $([int]($progress.ClientWaitCpu * 1000)) ms with it (1 run); in all $(Format-Ms (Get-Stat @($clientCpu | ForEach-Object { $_ * 1000 }))), of which pwsh's background compiler $(Format-Ms (Get-Stat @($clientCompilerCpu | ForEach-Object { $_ * 1000 })))" `
        -Peer "control: the same pwsh idle 5 s after building the batch spends $([int]($settled.SettleCpu * 1000)) ms (the runtime's tier-1 re-compiling), then waits for $([int]($settled.ClientCpu * 1000)) ms (the wait itself $([int]($settled.ClientWaitCpu * 1000)) ms)" `
        -Target 'next to nothing (the wait itself)' -Met ((Get-Stat $clientWaitCpu).Median -lt 0.05)
)
Save-FigureResult -Path $OutFile -Name 'jobs' -Rows $rows -Notes @(
    "Independent jobs: $Runs alternating pairs of ours ($Jobs ``true`` jobs, Submit-Batch then Wait-Batch, fresh runner home and executor each run, unsandboxed) and ``seq $Jobs | xargs -P2 -n1 bash -c true``; load average (1 min) before each pair: $(($loads | ForEach-Object { Format-Number $_ 1 }) -join ', ')."
)
