<#
.SYNOPSIS
    Figure 9: a DAG on Slurm. The same DAG of `cat` jobs through ours ([executor] runner = "slurm",
    Submit-Batch + Wait-Batch) with jobs submitted as soon as their parents are (--dependency, the
    default) and, for comparison, as their parents succeed ([slurm] dependencies = false), through a plain bash loop of `sbatch --parsable --dependency=afterok`
    calls, and through snakemake's `--cluster sbatch` mode; time to submit and time to complete.
.DESCRIPTION
    The DAG: $Layers layers of $Width jobs; each job of a layer reads two jobs of the layer before
    (i and i+1, wrapping), the first layer writes a line. Every job asks for 1 cpu and 50 MiB, on
    whatever cluster `sinfo` shows (tools/Start-TestSlurm.sh: one node of this machine). Runs of ours
    and bash alternate; snakemake runs once per size.
    Submit: ours is Submit-Batch returning (the batch is in the store; the runner then sbatches each
    job, and the time of its last sbatch is reported too); bash is its loop of
    sbatch calls ending; snakemake submits as it goes (no separate figure).
    Complete: from the start until the last job has ended (ours: Wait-Batch; bash: squeue shows none
    of its jobs in any live state, asked every 0.2 s; snakemake: its process exits).
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot,
    [int] $Layers = 10, [int] $Width = 50, [int] $Runs = 2, [switch] $SkipSnakemake, [double] $SnakemakeCapSeconds = 900,
    [int] $SubmitParallel = 4, [switch] $SkipFrontier)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner
New-Item -ItemType Directory -Force $WorkRoot | Out-Null
$n = $Layers * $Width
$figure = "9. A $n-job DAG on Slurm ($Layers layers × $Width, two parents each)"

$nodes = & sinfo -h -N -o '%N %c %m' 2>&1
if ($LASTEXITCODE -ne 0) {
    Save-FigureResult -Path $OutFile -Name 'slurm' -Rows @(New-ResultRow -Figure $figure -Ours '**not run**: Slurm does not answer (`sinfo` failed); start it with tools/Start-TestSlurm.sh') `
        -Notes @("Figure 9 not run: sinfo said: $nodes")
    return
}
$env:AR_EXECUTOR_IDLE_SECONDS = '5'

function Get-Parents([int] $Index) {
    $layer = [Math]::Floor($Index / $Width)
    if ($layer -eq 0) { return @() }
    $i = $Index % $Width
    $base = ($layer - 1) * $Width
    @(($base + $i), ($base + (($i + 1) % $Width)))
}

function Get-JobCommand([int] $Index, [string[]] $Files) {
    $parents = @(Get-Parents $Index)
    if ($parents.Count -eq 0) { "echo $Index > $($Files[$Index])" } else { "cat $(($parents | ForEach-Object { $Files[$_] }) -join ' ') > $($Files[$Index])" }
}

function Assert-Last([string] $Path, [string] $Tool) {
    # Each layer doubles the lines: the last layer's files hold 2^(Layers-1) lines.
    $lines = @(Get-Content $Path).Count
    if ($lines -ne [Math]::Pow(2, $Layers - 1)) { throw "$Tool's last file has $lines lines, expected $([Math]::Pow(2, $Layers - 1))." }
}

function Invoke-Ours([int] $Run, [bool] $Dependencies) {
    $runnerHome = New-BenchDirectory $WorkRoot "ours-$Run-$Dependencies"
    $env:AR_HOME = $runnerHome
    Set-Content (Join-Path $runnerHome 'settings.toml') "[executor]`nrunner = `"slurm`"`n`n[slurm]`ndependencies = $("$Dependencies".ToLowerInvariant())`nsubmit_parallel = $SubmitParallel`n"
    $batch = New-Batch -Name "bench slurm dag $n"
    $jobs = [object[]]::new($n)
    $outs = [string[]]::new($n)
    for ($i = 0; $i -lt $n; $i++) {
        $jobs[$i] = Add-BatchJob -Batch $batch -Name "j$i" -Memory 50Mi
        $outs[$i] = "$($jobs[$i].Out)"
    }
    for ($i = 0; $i -lt $n; $i++) { Add-BatchJobCommand -Job $jobs[$i] -Command (Get-JobCommand $i $outs) }
    $start = [DateTime]::UtcNow
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $submitted = Submit-Batch -Batch $batch 6>$null
    $submit = $clock.Elapsed.TotalSeconds
    $info = Wait-Batch -Id $submitted.Id -Timeout 3600 6>$null
    $complete = $clock.Elapsed.TotalSeconds
    if ("$($info.State)" -ne 'Succeeded') { throw "Our batch ended $($info.State): $($info.SucceededJobs) succeeded, $($info.FailedJobs) failed." }
    $ledger = Join-Path $runnerHome "logs/$($submitted.Id)/slurm-ledger"
    $sbatches = @(Get-Content $ledger).Count
    if ($sbatches -ne $n) { throw "Our runner made $sbatches sbatch calls for $n jobs." }
    $lastSbatch = ((Get-Item $ledger).LastWriteTimeUtc - $start).TotalSeconds
    Stop-BenchExecutor $runnerHome
    Remove-Item -Recurse -Force $runnerHome
    [pscustomobject]@{ Submit = $submit; LastSbatch = $lastSbatch; Complete = $complete }
}

function Invoke-Bash([int] $Run) {
    $dir = New-BenchDirectory $WorkRoot "bash-$Run"
    $name = "bench-bash-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $files = [string[]]@(for ($i = 0; $i -lt $n; $i++) { Join-Path $dir "j$i" })
    $script = [Text.StringBuilder]::new()
    [void]$script.AppendLine('set -euo pipefail')
    for ($i = 0; $i -lt $n; $i++) {
        $parents = @(Get-Parents $i)
        $dependency = if ($parents.Count) { "--dependency=afterok:" + (($parents | ForEach-Object { "`$j$_" }) -join ':') + ' ' } else { '' }
        [void]$script.AppendLine("j$i=`$(sbatch --parsable --job-name=$name --mem=50M --cpus-per-task=1 ${dependency}-o $dir/j$i.out -e $dir/j$i.err --chdir=$dir --wrap $(ConvertTo-ShellLiteral (Get-JobCommand $i $files)))")
    }
    $path = Join-Path $dir 'submit.sh'
    Set-Content $path $script.ToString() -NoNewline
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & bash $path
    if ($LASTEXITCODE -ne 0) { throw "The bash sbatch loop failed ($LASTEXITCODE)." }
    $submit = $clock.Elapsed.TotalSeconds
    while (@(& squeue -h --name=$name --states=PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED,REQUEUED -o '%i').Count -gt 0) { Start-Sleep -Milliseconds 200 }
    $complete = $clock.Elapsed.TotalSeconds
    Assert-Last $files[-1] 'bash'
    Remove-Item -Recurse -Force $dir
    [pscustomobject]@{ Submit = $submit; Complete = $complete }
}

function Invoke-Snakemake {
    $dir = New-BenchDirectory $WorkRoot 'snakemake'
    # The first layer's files are f<i> and the rest j<i>, so each file has one rule.
    $names = [string[]]@(for ($i = 0; $i -lt $n; $i++) { if ($i -lt $Width) { "f$i" } else { "j$i" } })
    $text = [Text.StringBuilder]::new()
    [void]$text.AppendLine('PARENTS = {')
    for ($i = $Width; $i -lt $n; $i++) { [void]$text.AppendLine("    '$($names[$i])': [$((Get-Parents $i | ForEach-Object { "'$($names[$_])'" }) -join ', ')],") }
    [void]$text.AppendLine('}')
    [void]$text.AppendLine(@"

rule all:
    input: [f'j{i}' for i in range($($n - $Width), $n)]

rule first:
    output: 'f{i}'
    shell: 'echo {wildcards.i} > {output}'

rule job:
    input: lambda wildcards: PARENTS['j' + wildcards.i]
    output: 'j{i}'
    shell: 'cat {input} > {output}'
"@)
    Set-Content (Join-Path $dir 'Snakefile') $text.ToString() -NoNewline
    $seconds = Invoke-TimedProcess snakemake @('-j', "$n", '--cluster', "sbatch --parsable --mem=50M --cpus-per-task=1 -o $dir/slurm-%j.out", '--latency-wait', '30', '--quiet') `
        -WorkingDirectory $dir -LogPath (Join-Path $WorkRoot 'snakemake.log') -TimeoutSeconds $SnakemakeCapSeconds
    if ($null -ne $seconds) { Assert-Last (Join-Path $dir "j$($n - 1)") 'snakemake' }
    Remove-Item -Recurse -Force $dir
    $seconds
}

function Get-Load { ((Get-Content /proc/loadavg) -split ' ' | Select-Object -First 1) }
$load = ((Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3) -join ' '
$loads = [Collections.Generic.List[string]]::new()
$ours = @(); $frontier = @(); $bash = @()
for ($run = 1; $run -le $Runs; $run++) {
    $ours += Invoke-Ours $run $true
    $loads.Add((Get-Load))
    Write-BenchLine "ours (--dependency) run ${run}: submit $(Format-Number $ours[-1].Submit 2) s, last sbatch at $(Format-Number $ours[-1].LastSbatch 1) s, complete $(Format-Number $ours[-1].Complete 1) s; load $($loads[-1])"
    if (-not $SkipFrontier) {
        $frontier += Invoke-Ours $run $false
        $loads.Add((Get-Load))
        Write-BenchLine "ours (frontier) run ${run}: submit $(Format-Number $frontier[-1].Submit 2) s, last sbatch at $(Format-Number $frontier[-1].LastSbatch 1) s, complete $(Format-Number $frontier[-1].Complete 1) s; load $($loads[-1])"
    }
    $bash += Invoke-Bash $run
    $loads.Add((Get-Load))
    Write-BenchLine "bash run ${run}: submit $(Format-Number $bash[-1].Submit 2) s, complete $(Format-Number $bash[-1].Complete 1) s; load $($loads[-1])"
}
$snakemake = $null
$snakemakeNote = if ($SkipSnakemake) { 'snakemake --cluster: skipped (-SkipSnakemake).' }
elseif (-not (Get-Command snakemake -ErrorAction SilentlyContinue)) { 'snakemake --cluster: not installed.' }
else {
    try {
        $snakemake = Invoke-Snakemake
        if ($null -eq $snakemake) { "snakemake --cluster: stopped after $SnakemakeCapSeconds s." } else { Write-BenchLine "snakemake --cluster: $(Format-Number $snakemake 1) s"; $null }
    }
    catch { "snakemake --cluster did not run here: $($_.Exception.Message)" }
}

$submitRatio = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $ours[$i].Submit / $bash[$i].Submit })
$completeRatio = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $ours[$i].Complete / $bash[$i].Complete })
$rows = @(
    New-ResultRow -Figure "${figure}: time to submit" -Ours "Submit-Batch $(Format-Seconds (Get-Stat $ours.Submit)); last sbatch at $(Format-Seconds (Get-Stat $ours.LastSbatch) 1)" `
        -Peer "bash sbatch loop $(Format-Seconds (Get-Stat $bash.Submit))" -Ratio (Format-Ratio $submitRatio) -Target '≤ 1.0×' -Met ($submitRatio.Median -le 1.0)
    New-ResultRow -Figure "${figure}: time to complete" -Ours (Format-Seconds (Get-Stat $ours.Complete) 1) `
        -Peer "bash sbatch --dependency loop $(Format-Seconds (Get-Stat $bash.Complete) 1)" -Ratio (Format-Ratio $completeRatio) -Target '≤ 1.0×' -Met ($completeRatio.Median -le 1.0)
)
if ($frontier.Count) {
    $frontierRatio = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $frontier[$i].Complete / $bash[$i].Complete })
    $rows += New-ResultRow -Figure "${figure}: time to complete, ours submitting as parents succeed (dependencies = false)" `
        -Ours "$(Format-Seconds (Get-Stat $frontier.Complete) 1); last sbatch at $(Format-Seconds (Get-Stat $frontier.LastSbatch) 1)" `
        -Peer "bash sbatch --dependency loop $(Format-Seconds (Get-Stat $bash.Complete) 1)" -Ratio (Format-Ratio $frontierRatio) -Target 'reported'
}
if ($null -ne $snakemake) {
    $rows += New-ResultRow -Figure "${figure}: against snakemake --cluster sbatch" -Ours (Format-Seconds (Get-Stat $ours.Complete) 1) `
        -Peer "snakemake $(Format-Number $snakemake 1) s (1 run)" -Ratio "$(Format-Number ((Get-Stat $ours.Complete).Median / $snakemake) 2)× (medians)" -Target 'reported'
}
Save-FigureResult -Path $OutFile -Name 'slurm' -Rows $rows -Notes @(
    "Figure 9: Slurm as sinfo shows it ($(($nodes | ForEach-Object { "$_" }) -join '; '): node, cpus, MB), load average $load at the start and $($loads -join ', ') (1-minute) after each run; $Runs alternating runs of ours and bash, submit_parallel = $SubmitParallel. Ours (the default, dependencies = true) sbatches a job as soon as its parents' sbatch has answered, with --dependency=afterok on them, so Slurm releases it when they end; its submit figure is Submit-Batch returning and the time of its last sbatch is shown. With dependencies = false a job is sbatched once its parents have succeeded (squeue asked every poll_seconds, 1 s). Bash submits all of them up front with --dependency=afterok."
    @($snakemakeNote | Where-Object { $_ })
)
