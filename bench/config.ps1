<#
.SYNOPSIS
    Figure 6: 20 user configs of 1,000 keys each merged into a run config and written.
.DESCRIPTION
    Times, in-process, what RunSubmitter does with configs: read the 20 files, RunConfigBuilder.Build
    (templates from the home + baseline + the 20 files), TomlFiles.Serialize (the plan) and
    ConfigStore.PublishAsync of the plan's text (write once: write, fsync, no-clobber rename), as
    SqliteRunLog does before the run's transaction.
    Each file has 500 keys every file shares (common.s0..s4, 100 keys each: later files override) and
    500 of its own (fileNN.s0..s4), half strings, half integers. No peer: no other tool does this merge.
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Runs = 10,
    [int] $Files = 20, [int] $KeysPerFile = 1000)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner

$root = New-BenchDirectory $WorkRoot 'config'
$runnerHome = [AnalysisRunner.Core.Hosting.RunnerHome]::new((Join-Path $root 'home'))
$deployment = [AnalysisRunner.Core.Hosting.Deployment]::Open($runnerHome)
$level = [AnalysisRunner.Core.AccessLevel]::Test

$sections = 5; $perSection = $KeysPerFile / 2 / $sections
$paths = for ($f = 1; $f -le $Files; $f++) {
    $text = [Text.StringBuilder]::new()
    foreach ($prefix in 'common', ('file{0:D2}' -f $f)) {
        for ($s = 0; $s -lt $sections; $s++) {
            [void]$text.AppendLine("[$prefix.s$s]")
            for ($k = 0; $k -lt $perSection; $k++) {
                if ($k % 2) { [void]$text.AppendLine("key$k = $($f * 100000 + $k)") }
                else { [void]$text.AppendLine("key$k = `"value $f/$s/$k`"") }
            }
        }
    }
    $path = Join-Path $root ('user{0:D2}.toml' -f $f)
    Set-Content $path $text.ToString()
    $path
}

function Measure-Config {
    $arGuid = [guid]::NewGuid().ToString()
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $snapshots = [System.Collections.Generic.List[AnalysisRunner.Core.Runs.ConfigSnapshot]]::new()
    foreach ($path in $paths) { $snapshots.Add([AnalysisRunner.Core.Runs.ConfigSnapshot]::new($path, [IO.File]::ReadAllText($path))) }
    $templates = [System.Collections.Generic.List[AnalysisRunner.Core.Runs.ConfigSnapshot]]::new()
    foreach ($path in $deployment.TemplatePaths) { $templates.Add([AnalysisRunner.Core.Runs.ConfigSnapshot]::new($path, [IO.File]::ReadAllText($path))) }
    $input_ = [AnalysisRunner.Core.Config.RunConfigInput]@{
        ArGuid = $arGuid; Dataset = 'fewgenomes'; AccessLevel = $level; OutputPrefix = 'bench/config'
        DriverImage = 'registry.example.org/approved/driver:1'; User = 'bench@example.org'; Description = 'bench config'
        Buckets = $deployment.BucketsFor('fewgenomes', $level)
    }
    $config = [AnalysisRunner.Core.Config.RunConfigBuilder]::Build($input_, $templates, $snapshots)
    $toml = [AnalysisRunner.Core.Config.TomlFiles]::Serialize($config)
    # A cmdlet waits for Core's I/O at the edge; so does this, once per run.
    $path = $deployment.Configs.PublishAsync($arGuid, $toml).GetAwaiter().GetResult()
    $clock.Stop()
    [pscustomobject]@{ Ms = $clock.Elapsed.TotalMilliseconds; Bytes = $toml.Length; Path = $path }
}

$first = Measure-Config   # warm-up (JIT)
$keys = ([regex]::Matches([IO.File]::ReadAllText($first.Path), '(?m)^key\d+ =')).Count
$samples = @(for ($i = 1; $i -le $Runs; $i++) { (Measure-Config).Ms })
$stat = Get-Stat $samples
Write-BenchLine "$Files files × $KeysPerFile keys → $keys keys in the run config ($($first.Bytes) chars): $(Format-Ms $stat 1)"
$rows = @(New-ResultRow -Figure "6. Config: $Files user configs × $KeysPerFile keys merged, run config written ($keys keys)" `
    -Ours (Format-Ms $stat 1) -Peer 'none (no fair peer)' -Target '≤ 100 ms' -Met ($stat.Median -le 100))
Save-FigureResult -Path $OutFile -Name 'config' -Rows $rows -Notes @(
    "Config: one warm-up, then $Runs timed runs in-process of read files → RunConfigBuilder.Build → TomlFiles.Serialize (the plan's text) → ConfigStore.PublishAsync of that text (as RunAuthority plans and SqliteRunLog publishes a run's config). No peer: no other tool merges cpg-utils configs; none is fair."
)
