<#
.SYNOPSIS
    Runs the benchmarks side by side with their peers and writes bench/results.md and
    bench/dag-scaling.png (with -Quick: results-quick.md and dag-scaling-quick.png, small sizes).
.DESCRIPTION
    Run it through the build: dotnet pwsh ./build.ps1 -Task Bench [-Quick] (which builds the module and
    puts it on PSModulePath). Installs its peers (GNU make, snakemake, sqlite3, gnuplot) from Debian when
    they are missing. Each figure is one script in this folder, run in its own pwsh, which leaves
    its rows as JSON; this script orders them into the table and draws the DAG plot.
#>
[CmdletBinding()]
param(
    [switch] $Quick,
    # Only these figures (import, latency, dag, audit-log, config, jobs, durability, slurm, server, client-wait); all by default.
    [string[]] $Figures = @('import', 'latency', 'dag', 'audit-log', 'config', 'jobs', 'durability', 'slurm', 'server', 'client-wait'),
    # Keep the scratch folder (homes, logs) instead of deleting it.
    [switch] $KeepWork
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
$Figures = @($Figures -split ',' | ForEach-Object { $_.Trim() })   # -File passes 'a,b' as one string

$suffix = if ($Quick) { '-quick' } else { '' }
$resultsPath = Join-Path $PSScriptRoot "results$suffix.md"
$plotPath = Join-Path $PSScriptRoot "dag-scaling$suffix.png"
$workRoot = Join-Path ([IO.Path]::GetTempPath()) ("ar-bench-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory $workRoot | Out-Null

# What each figure runs with: full sizes, or -Quick sizes for CI.
$plan = if ($Quick) {
    [ordered]@{
        'import' = @('-Runs', 2)
        'latency' = @('-Runs', 2)
        'dag' = @('-Sizes', '100:2,200:2', '-SkipSnakemake', '-TmpfsRuns', 1)
        'audit-log' = @('-Rows', 10000, '-Runs', 2)
        'config' = @('-Runs', 2)
        'jobs' = @('-Jobs', 200, '-Runs', 2)
        'durability' = @('-Rounds', 50)
        'slurm' = @('-Layers', 5, '-Width', 20, '-Runs', 1, '-SkipSnakemake')
        'server' = @('-Submissions', 10, '-Runs', 1)
        'client-wait' = @('-Jobs', 200, '-Runs', 1)
    }
}
else {
    [ordered]@{
        'import' = @('-Runs', 10)
        'latency' = @('-Runs', 5)
        'dag' = @('-Sizes', '1000:5,2000:3,4000:2,10000:1', '-SnakemakeRuns', 3, '-SnakemakeCapSeconds', 300)
        'audit-log' = @('-Rows', 1000000, '-Runs', 10)
        'config' = @('-Runs', 10)
        'jobs' = @('-Jobs', 1000, '-Runs', 5)
        'durability' = @('-Rounds', 300)
        'slurm' = @('-Layers', 10, '-Width', 50, '-Runs', 2)
        'server' = @('-Submissions', 50, '-Runs', 3)
        'client-wait' = @('-Jobs', 1000, '-Runs', 3)
    }
}
$numbers = @{ 'import' = 1; 'latency' = 2; 'dag' = '3–4'; 'audit-log' = 5; 'config' = 6; 'jobs' = 7; 'durability' = 8; 'slurm' = 9; 'server' = 10; 'client-wait' = 11 }
$scripts = @{ 'import' = 'import.ps1'; 'latency' = 'submit-latency.ps1'; 'dag' = 'dag.ps1'; 'audit-log' = 'audit-log.ps1'; 'config' = 'config.ps1'; 'jobs' = 'jobs.ps1'; 'durability' = 'durability.ps1'; 'slurm' = 'slurm.ps1'; 'server' = 'server-submit.ps1'; 'client-wait' = 'client-wait.ps1' }

#region peers

<# Installs the Debian packages of missing peers (apt-get update once). Returns a note. #>
function Install-Peer {
    $wanted = [ordered]@{ make = 'make'; sqlite3 = 'sqlite3'; gnuplot = 'gnuplot-nox' }
    if (-not $Quick) { $wanted['snakemake'] = 'snakemake' }   # -Quick skips snakemake
    $missing = @($wanted.Keys | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) })
    if (-not $missing) { return 'Peers were already installed.' }
    $packages = @($missing | ForEach-Object { $wanted[$_] })
    $canInstall = (Get-Command apt-get -ErrorAction SilentlyContinue) -and ((id -u) -eq '0')
    if (-not $canInstall) {
        Write-Warning "Missing $($missing -join ', ') and cannot install them (needs apt-get as root); those peers are skipped."
        return "Could not install $($packages -join ', ') (no apt-get as root): those peers are missing below."
    }
    Write-Host "== Installing peers from Debian: $($packages -join ' ')"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    # apt's output goes to the console, not into this function's return value (the results note).
    & apt-get update -qq | Out-Host
    if ($LASTEXITCODE) { Write-Warning "apt-get update failed ($LASTEXITCODE)" }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -qq --no-install-recommends @packages | Out-Host
    if ($LASTEXITCODE) { Write-Warning "apt-get install failed ($LASTEXITCODE); missing peers are skipped." }
    "Installed $($packages -join ', ') from Debian in $([int]$clock.Elapsed.TotalSeconds) s."
}

function Get-ToolVersion([string] $Command, [string[]] $Arguments = @('--version')) {
    if (-not (Get-Command $Command -ErrorAction SilentlyContinue)) { return "$Command (not installed)" }
    $line = (& $Command @Arguments 2>&1 | Select-Object -First 1) -as [string]
    "$Command $($line.Trim())"
}

#endregion

#region results

function Get-LoadAverage { (Get-Content /proc/loadavg) -split ' ' | Select-Object -First 3 }

function Write-DagPlot($DagData, [string] $Path) {
    if (-not (Get-Command gnuplot -ErrorAction SilentlyContinue)) { return 'No plot: gnuplot is not installed.' }
    $dataFile = Join-Path $workRoot 'dag.dat'
    $lines = foreach ($entry in $DagData) {
        $cells = @($entry.size)
        foreach ($tool in 'ours', 'make', 'snakemake') {
            $samples = @($entry.$tool)
            if ($samples.Count) { $s = Get-Stat $samples; $cells += $s.Median, $s.Min, $s.Max } else { $cells += 'NaN', 'NaN', 'NaN' }
        }
        ($cells | ForEach-Object { if ($_ -is [string]) { $_ } else { Format-Number $_ 4 } }) -join ' '
    }
    Set-Content $dataFile $lines
    $series = @("'$dataFile' using 1:2:3:4 with yerrorlines lw 2 pt 7 title 'AnalysisRunner (Submit-Batch, Wait-Batch)'",
        "'' using 1:5:6:7 with yerrorlines lw 2 pt 5 title 'make -j2'")
    if (@($DagData | Where-Object { @($_.snakemake).Count }).Count) {
        $series += "'' using 1:8:9:10 with yerrorlines lw 2 pt 9 title 'snakemake -j2'"
    }
    $terminal = if ((gnuplot -e 'set terminal' 2>&1 | Out-String) -match 'pngcairo') { 'pngcairo size 900,600' } else { 'png size 900,600' }
    $script = @"
set terminal $terminal
set output '$Path'
set title 'Local DAG of cat jobs: wall time against DAG size ($(nproc) cores, -j2)'
set xlabel 'jobs in the DAG'
set ylabel 'seconds (median, bars min-max)'
set logscale xy
set grid
set key top left
set datafile missing 'NaN'
set xrange [$(($DagData | ForEach-Object { $_.size } | Measure-Object -Minimum).Minimum / 1.4):$(($DagData | ForEach-Object { $_.size } | Measure-Object -Maximum).Maximum * 1.4)]
set xtics ($(($DagData | ForEach-Object { "'$($_.size)' $($_.size)" }) -join ', '))
plot $($series -join ', ')
"@
    $script | gnuplot
    if ($LASTEXITCODE) { return "The plot failed (gnuplot exit $LASTEXITCODE)." }
    $null
}

function ConvertTo-MarkdownCell([string] $Text) { $Text -replace '\|', '\|' }

#endregion

$started = Get-Date
$loadBefore = Get-LoadAverage
$notes = [System.Collections.Generic.List[string]]::new()
$notes.Add((Install-Peer))
$pwsh = Get-PwshCommand
$figureResults = [ordered]@{}
$failures = [System.Collections.Generic.List[string]]::new()
try {
    foreach ($figure in $plan.Keys) {
        if ($figure -notin $Figures) { continue }
        Write-Host "== $figure"
        $outFile = Join-Path $workRoot "$figure.json"
        $arguments = @($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot $scripts[$figure]),
            '-OutFile', $outFile) + @(if ($figure -ne 'import') { '-WorkRoot', (Join-Path $workRoot $figure) }) + $plan[$figure]
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $pwsh.File @arguments
        $exit = $LASTEXITCODE
        if ($exit -ne 0 -or -not (Test-Path $outFile)) {
            $failures.Add("$figure (exit $exit)")
            $figureResults[$figure] = [pscustomobject]@{ rows = @(New-ResultRow -Figure "$($numbers[$figure]). $figure" -Ours "**the figure script failed** (exit $exit)"); notes = @(); data = $null }
            continue
        }
        $figureResults[$figure] = Get-Content $outFile -Raw | ConvertFrom-Json
        Write-Host "   ($([int]$clock.Elapsed.TotalSeconds) s)"
    }
    $loadAfter = Get-LoadAverage
    $plotNote = $null; $plotDrawn = $false
    if ($figureResults.Contains('dag') -and $figureResults['dag'].data) {
        $plotNote = Write-DagPlot $figureResults['dag'].data $plotPath
        $plotDrawn = -not $plotNote
    }
}
finally {
    if (-not $KeepWork) { Remove-Item -Recurse -Force $workRoot -ErrorAction SilentlyContinue }
}

# The table, figure by figure (1..6), then the machine and the method.
$allRows = @(@($figureResults.Values | ForEach-Object { $_.rows }) | Sort-Object { [int](($_.figure -split '[.–]')[0] -as [int]) } -Stable)
$commit = (git -C $PSScriptRoot rev-parse --short HEAD 2>$null | Out-String).Trim()
$dirty = if (git -C $PSScriptRoot status --porcelain --untracked-files=no 2>$null) { ' (with uncommitted changes)' } else { '' }
$missed = @($allRows | Where-Object { $_.met -like '*NO*' })
$md = [System.Text.StringBuilder]::new()
[void]$md.AppendLine("# Benchmarks$(if ($Quick) { ' (-Quick: small sizes, a check of the harness, not the figures)' })")
[void]$md.AppendLine()
[void]$md.AppendLine("Written by ``dotnet pwsh ./build.ps1 -Task Bench$(if ($Quick) { ' -Quick' })`` on $($started.ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC at commit $commit$dirty; it took $([int]((Get-Date) - $started).TotalMinutes) min. Times are median (min–max) over the runs; ratios are ours ÷ peer, computed per run against the peer measured alongside it, then median (min–max).")
[void]$md.AppendLine()
if ($missed.Count) {
    [void]$md.AppendLine("**Targets missed: $($missed.Count)** — $((($missed | ForEach-Object { $_.figure }) -join '; ')).")
}
else { [void]$md.AppendLine('All targets measured here were met.') }
if ($failures.Count) { [void]$md.AppendLine(); [void]$md.AppendLine("**Figure scripts that failed:** $($failures -join ', ').") }
[void]$md.AppendLine()
[void]$md.AppendLine('| figure | ours | peer | ratio | target | met? |')
[void]$md.AppendLine('|---|---|---|---|---|---|')
foreach ($row in $allRows) {
    [void]$md.AppendLine('| ' + (@($row.figure, $row.ours, $row.peer, $row.ratio, $row.target, $row.met | ForEach-Object { ConvertTo-MarkdownCell "$_" }) -join ' | ') + ' |')
}
[void]$md.AppendLine()
if ($plotDrawn) { [void]$md.AppendLine("![DAG wall time against size](dag-scaling$suffix.png)"); [void]$md.AppendLine() }
[void]$md.AppendLine('## Machine')
[void]$md.AppendLine()
$memTotal = [int](((Get-Content /proc/meminfo | Select-Object -First 1) -split '\s+')[1] / 1024 / 1024)
$cpuModel = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':\s*', 2)[1]
[void]$md.AppendLine("- nproc $(nproc) ($cpuModel), $memTotal GiB RAM, $(uname -sr).")
[void]$md.AppendLine("- Load average (1/5/15 min) $($loadBefore -join ' / ') before, $($loadAfter -join ' / ') after: a shared machine, other work was running, so absolute times are noisy and the ratios (peer measured in the same run, interleaved) are what count.")
[void]$md.AppendLine("- pwsh $($PSVersionTable.PSVersion), .NET $([Environment]::Version); $(Get-ToolVersion make); $(Get-ToolVersion snakemake); $(Get-ToolVersion sqlite3); $(Get-ToolVersion gnuplot).")
[void]$md.AppendLine()
[void]$md.AppendLine('## Method')
[void]$md.AppendLine()
foreach ($note in @($notes) + @($figureResults.Values | ForEach-Object { $_.notes }) + @($plotNote)) {
    if ($note) { [void]$md.AppendLine("- $note") }
}
[void]$md.AppendLine("- Scripts: bench/bench.ps1 runs one script per figure (import.ps1, submit-latency.ps1, dag.ps1, audit-log.ps1, config.ps1, jobs.ps1, durability.ps1, slurm.ps1, server-submit.ps1, client-wait.ps1), each in its own ``dotnet pwsh.dll`` process.")
Set-Content -Path $resultsPath -Value $md.ToString() -NoNewline
Write-Host "== Wrote $resultsPath$(if ($plotDrawn) { " and $plotPath" })"
Get-Content $resultsPath | Select-Object -First ($allRows.Count + 10) | Write-Host
if ($failures.Count) { Write-Host "Bench figure scripts failed: $($failures -join ', ')"; exit 1 }
