<#
.SYNOPSIS
    Figure 10: Submit-Analysis through AnalysisRunner.Server (HTTP, bearer token) against the same
    cmdlet in-process over the same runner home: submissions per second and p50/p99 latency.
.DESCRIPTION
    One pwsh, module imported, one untimed submission per transport first. Each run submits
    -Submissions runs one after another through each transport (the order alternates per run), each
    timed from before Submit-Analysis to its return (the run logged, its config and driver batch
    written). The driver runs `true` without a checkout, so the executor adds little; both transports
    fetch the allowlisted remote once per submission, as the authority does. The server runs on a
    throwaway PostgreSQL cluster (its token store) with the bench world as its [runner] home.
#>
param([Parameter(Mandatory)] [string] $OutFile, [Parameter(Mandatory)] [string] $WorkRoot, [int] $Submissions = 50, [int] $Runs = 3)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module (Join-Path $PSScriptRoot '../tests/AnalysisRunner.Pester/TestSupport.psm1')
Import-Module AnalysisRunner

if (-not (Get-TestPostgresBin)) {
    Save-FigureResult -Path $OutFile -Name 'server' -Rows @(New-ResultRow -Figure '10. Submit-Analysis over HTTP' -Ours 'not measured: no PostgreSQL server binaries (install postgresql-15)')
    return
}
$world = New-BenchWorld -Root (New-BenchDirectory $WorkRoot 'server') -Files @{ 'bench/README.md' = 'runs of the server figure' }
$server = Start-TestServer -Root (New-BenchDirectory $WorkRoot 'server-pg') -RunnerHome $world.Home
$env:AR_SERVER = $null
$env:AR_TOKEN = New-TestServerToken $server -User $world.Email

<# Milliseconds of each of $Submissions submissions in a row through $Target, and the seconds they took together. #>
function Measure-Submissions([hashtable] $Target, [string] $Label) {
    $each = [double[]]::new($Submissions)
    $all = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $Submissions; $i++) {
        $one = [Diagnostics.Stopwatch]::StartNew()
        Submit-Analysis @Target -Dataset fewgenomes -AccessLevel test -Description "bench $Label $i" -OutputDir 'bench/server' `
            -Repository $world.Origin -Commit $world.Commit -SkipRepoCheckout 'true' 6>$null | Out-Null
        $each[$i] = $one.Elapsed.TotalMilliseconds
    }
    [pscustomobject]@{ Each = $each; Seconds = $all.Elapsed.TotalSeconds }
}

function Get-Percentile([double[]] $Samples, [double] $Fraction) {
    $sorted = @($Samples | Sort-Object)
    $sorted[[Math]::Min($sorted.Count - 1, [int][Math]::Ceiling($Fraction * $sorted.Count) - 1)]
}

$http = @{ Server = $server.Uri }
$embedded = @{ RunnerHome = $world.Home }
try {
    [void](Measure-Submissions $embedded 'warm-up') ; [void](Measure-Submissions $http 'warm-up')
    $results = @{ http = @(); embedded = @() }
    for ($run = 1; $run -le $Runs; $run++) {
        $order = if ($run % 2) { @('embedded', 'http') } else { @('http', 'embedded') }
        foreach ($name in $order) {
            $results[$name] += Measure-Submissions (Get-Variable $name -ValueOnly) $name
        }
        $h = $results.http[-1]; $e = $results.embedded[-1]
        Write-BenchLine "run ${run}: HTTP $(Format-Number ($Submissions / $h.Seconds) 1)/s p50 $([int](Get-Percentile $h.Each 0.5)) ms; in-process $(Format-Number ($Submissions / $e.Seconds) 1)/s p50 $([int](Get-Percentile $e.Each 0.5)) ms"
    }
}
finally {
    Stop-BenchExecutor $world.Home
    Stop-TestServer $server
}

function Format-Transport($Measured) {
    $samples = @($Measured | ForEach-Object { $_.Each })
    $rate = Get-Stat @($Measured | ForEach-Object { $Submissions / $_.Seconds })
    "$(Format-Number $rate.Median 1)/s ($(Format-Number $rate.Min 1)–$(Format-Number $rate.Max 1)); p50 $([int](Get-Percentile $samples 0.5)) ms, p99 $([int](Get-Percentile $samples 0.99)) ms"
}
$ratio = Get-Stat @(for ($i = 0; $i -lt $Runs; $i++) { $results.embedded[$i].Seconds / $results.http[$i].Seconds })
Save-FigureResult -Path $OutFile -Name 'server' -Rows @(
    New-ResultRow -Figure "10. Submit-Analysis over HTTP ($Submissions in a row)" -Ours (Format-Transport $results.http) `
        -Peer "$(Format-Transport $results.embedded) in-process" -Ratio "$(Format-Ratio $ratio) of the in-process rate"
) -Notes @(
    "Server: $Runs runs of $Submissions submissions in a row per transport (order alternating), each timed from before Submit-Analysis to its return; p50/p99 over all $($Runs * $Submissions) submissions of a transport; rate = submissions ÷ the run's seconds, median (min–max) over runs; ratio = HTTP rate ÷ in-process rate per run. Both plan from the same runner home and fetch the allowlisted remote per submission; the server's caller comes from its token (PostgreSQL token store, throwaway cluster)."
)
