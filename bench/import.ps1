<#
.SYNOPSIS
    Figure 1: module import. `pwsh -NoProfile -c 'Import-Module AnalysisRunner'` against bare
    `pwsh -NoProfile -c 1`, both started as `dotnet pwsh.dll` (not the `dotnet pwsh` shim), alternating.
#>
param([Parameter(Mandatory)] [string] $OutFile, [int] $Runs = 10)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')

$pwsh = Get-PwshCommand
$bare = @($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-c', '1')
$import = @($pwsh.Arguments) + @('-NoProfile', '-NonInteractive', '-c', 'Import-Module AnalysisRunner')

# One untimed start of each, so both find the files in the page cache.
[void](Invoke-TimedProcess $pwsh.File $bare)
[void](Invoke-TimedProcess $pwsh.File $import)

$ours = @(); $peer = @(); $extra = @()
for ($i = 1; $i -le $Runs; $i++) {
    $p = (Invoke-TimedProcess $pwsh.File $bare) * 1000
    $o = (Invoke-TimedProcess $pwsh.File $import) * 1000
    $peer += $p; $ours += $o; $extra += $o - $p
    Write-BenchLine "run ${i}: bare $([int]$p) ms, with Import-Module $([int]$o) ms"
}
$oursStat = Get-Stat $ours
$extraStat = Get-Stat $extra
$ratioStat = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $ours[$i] / $peer[$i] })

$rows = @(
    New-ResultRow -Figure '1. Module import (pwsh start + Import-Module)' -Ours (Format-Ms $oursStat) `
        -Peer "$(Format-Ms (Get-Stat $peer)) bare pwsh" -Ratio (Format-Ratio $ratioStat) `
        -Target '≤ 150 ms extra' -Met ($extraStat.Median -le 150)
    New-ResultRow -Figure '1. Module import: extra over bare pwsh' -Ours (Format-Ms $extraStat) -Target '≤ 150 ms' `
        -Met ($extraStat.Median -le 150)
)
Save-FigureResult -Path $OutFile -Name 'import' -Rows $rows -Notes @(
    "Import: $Runs alternating pairs of ``dotnet pwsh.dll -NoProfile -NonInteractive -c ...`` (bare ``1`` vs ``Import-Module AnalysisRunner``); extra = per-pair difference."
)
