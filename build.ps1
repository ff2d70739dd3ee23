<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks AnalysisRunner.
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    $env:AR_SERVER_SETTINGS = '/etc/analysis-runner/server.toml'; dotnet pwsh ./build.ps1 -Task Serve
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Serve')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Bench only: small sizes, so CI can check the harness quickly.
    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$artifacts = Join-Path $root 'artifacts'
$moduleDir = Join-Path $artifacts 'module/AnalysisRunner'
$packagesDir = Join-Path $root '.tools/packages'
$pesterVersion = '5.7.1'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    # The module and the executor are published side by side with a runtime identifier, so the native
    # libraries (libgit2, e_sqlite3) sit beside the dlls where pwsh can load them.
    if (Test-Path $moduleDir) { Remove-Item -Recurse -Force $moduleDir }
    foreach ($project in 'src/AnalysisRunner.PowerShell', 'src/AnalysisRunner.Executor') {
        Invoke-Native dotnet @('publish', (Join-Path $root $project), '-c', $Configuration, '-r', 'linux-x64',
            '--self-contained', 'false', '-o', $moduleDir, '-nologo', '-v', 'quiet', '-p:GenerateDocumentationFile=false',
            # Precompiled (ReadyToRun): less JIT at Import-Module, and an executor that starts compiled.
            '-p:PublishReadyToRun=true')
    }
    Copy-Item (Join-Path $root 'module/*') $moduleDir -Recurse -Force
    Write-Host "Module built at $moduleDir"
}

function Get-PesterModulePath {
    $manifest = Join-Path $packagesDir "pester/$pesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $manifest)) {
        # Pester comes from its NuGet package (no PowerShell Gallery here): restore it into .tools.
        $restoreDir = Join-Path $root '.tools/pester-restore'
        New-Item -ItemType Directory -Force $restoreDir | Out-Null
        Set-Content (Join-Path $restoreDir 'pester-restore.csproj') @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageReference Include="Pester" Version="$pesterVersion" /></ItemGroup>
</Project>
"@
        Invoke-Native dotnet @('restore', (Join-Path $restoreDir 'pester-restore.csproj'), '--packages', $packagesDir, '-v', 'quiet')
    }
    $manifest
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $artifacts 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    New-Item -ItemType Directory -Force $results | Out-Null

    Write-Host '== xunit (Core) =='
    & dotnet test (Join-Path $root 'tests/AnalysisRunner.Core.Tests') -c $Configuration -nologo `
        --logger 'trx;LogFileName=core.trx' --logger 'console;verbosity=normal' --results-directory $results
    $xunitExit = $LASTEXITCODE
    $xunitPassed = 0; $xunitFailed = 0
    $trx = Get-ChildItem $results -Filter *.trx -Recurse | Select-Object -First 1
    if ($trx) {
        $counters = ([xml](Get-Content $trx.FullName -Raw)).TestRun.ResultSummary.Counters
        $xunitPassed = [int]$counters.passed
        $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    }
    elseif ($xunitExit -ne 0) { $xunitFailed = 1 }

    Write-Host '== Pester (cmdlets) =='
    # A fresh pwsh, as a user would have: the module comes from the build output via PSModulePath.
    $pester = Get-PesterModulePath
    $summary = Join-Path $results 'pester.json'
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pester'
`$config = New-PesterConfiguration
`$config.Run.Path = '$(Join-Path $root 'tests/AnalysisRunner.Pester')'
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Detailed'
`$r = Invoke-Pester -Configuration `$config
@{ passed = `$r.PassedCount; failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount } | ConvertTo-Json | Set-Content '$summary'
"@
    $env:PSModulePath = (Join-Path $artifacts 'module') + [IO.Path]::PathSeparator + $env:PSModulePath
    $pwsh = (Get-Process -Id $PID).Path
    $pwshArgs = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
    & $pwsh @pwshArgs -NoProfile -NonInteractive -Command $script
    $pesterPassed = 0; $pesterFailed = 1
    if (Test-Path $summary) {
        $counts = Get-Content $summary -Raw | ConvertFrom-Json
        $pesterPassed = [int]$counts.passed; $pesterFailed = [int]$counts.failed
    }

    $passed = $xunitPassed + $pesterPassed
    $failed = $xunitFailed + $pesterFailed
    Write-Host "xunit: $xunitPassed passed, $xunitFailed failed; Pester: $pesterPassed passed, $pesterFailed failed"
    Write-Output "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    $env:PSModulePath = (Join-Path $artifacts 'module') + [IO.Path]::PathSeparator + $env:PSModulePath
    & (Join-Path $root 'examples/demo.ps1')
}

function Invoke-Bench {
    # Side by side with peers (make, snakemake, sqlite3; installed from Debian when missing); writes
    # bench/results.md and bench/dag-scaling.png, or with -Quick the -quick variants (small sizes, for CI).
    Invoke-Build
    $env:PSModulePath = (Join-Path $artifacts 'module') + [IO.Path]::PathSeparator + $env:PSModulePath
    & (Join-Path $root 'bench/bench.ps1') -Quick:$Quick
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

function Invoke-Serve {
    # AnalysisRunner.Server in the foreground (Ctrl+C stops it), with the settings file named by
    # AR_SERVER_SETTINGS, else ./server.toml; src/AnalysisRunner.Server/server.example.toml shows every key.
    $settings = if ($env:AR_SERVER_SETTINGS) { $env:AR_SERVER_SETTINGS } else { Join-Path $root 'server.toml' }
    if (-not (Test-Path $settings)) {
        throw "No server settings at ${settings}: copy src/AnalysisRunner.Server/server.example.toml there (or set AR_SERVER_SETTINGS) and set [database] connection_string."
    }
    Invoke-Native dotnet @('run', '--project', (Join-Path $root 'src/AnalysisRunner.Server'), '-c', $Configuration, '--', '--settings', $settings)
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Serve' { Invoke-Serve }
}
