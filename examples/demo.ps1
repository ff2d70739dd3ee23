<#
.SYNOPSIS
    The onboarding exercise end to end on the embedded default: no server, no cloud.
.DESCRIPTION
    Makes a scratch git checkout of this project's examples whose origin is a local bare repository
    (standing in for GitHub), allowlists it for dataset fewgenomes in a demo runner home, then submits
    hello.sh and the two-job batch hello.ps1 through Submit-Analysis and follows them job by job.
    Run it with: dotnet pwsh ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    # Where the demo keeps its runner home and repositories (emptied first), kept afterwards to look
    # around in. Without it, a new folder under the temp folder that is removed when the demo ends.
    [string] $DemoRoot
)
$ErrorActionPreference = 'Stop'
Import-Module AnalysisRunner

function Invoke-Git { git @args; if ($LASTEXITCODE) { throw "git $args failed" } }

$keep = [bool]$DemoRoot
if (-not $keep) { $DemoRoot = Join-Path ([IO.Path]::GetTempPath()) ('analysis-runner-demo-' + [guid]::NewGuid().ToString('N').Substring(0, 8)) }
if (Test-Path $DemoRoot) { Remove-Item -Recurse -Force $DemoRoot }
try {
    $origin = Join-Path $DemoRoot 'origin.git'
    $checkout = Join-Path $DemoRoot 'checkout'
    $env:AR_HOME = Join-Path $DemoRoot 'home'
    $me = 'demo-user'
    $email = "$me@example.org"

    Write-Host "== A scratch checkout of examples/, origin = $origin"
    Invoke-Git init -q --bare -b main $origin
    Invoke-Git init -q -b main $checkout
    New-Item -ItemType Directory (Join-Path $checkout 'examples') | Out-Null
    Copy-Item -Recurse (Join-Path $PSScriptRoot '*') (Join-Path $checkout 'examples')
    Push-Location $checkout
    Invoke-Git config user.email $email
    Invoke-Git config user.name 'Demo User'
    Invoke-Git remote add origin $origin
    Invoke-Git add -A
    Invoke-Git commit -q -m 'Examples for the onboarding exercise'
    Invoke-Git push -q origin main
    Pop-Location

    Write-Host "== Runner home ${env:AR_HOME}: this OS account ($([Environment]::UserName)) is $email; dataset fewgenomes allowlists the scratch repository; $email may use test"
    New-Item -ItemType Directory -Force $env:AR_HOME | Out-Null
    # Who you are on the embedded default: the OS account, mapped to an email by the runner settings.
    Set-Content (Join-Path $env:AR_HOME 'settings.toml') @"
[identity.users]
"$([Environment]::UserName)" = "$email"
"@
    Set-Content (Join-Path $env:AR_HOME 'registry.toml') @"
[datasets.fewgenomes]
repositories = ["$origin"]

[datasets.fewgenomes.members]
test = ["$email"]
standard = ["$email"]
"@

    Write-Host "`n== 1. hello.sh in examples/bash, waiting for the driver"
    Push-Location (Join-Path $checkout 'examples/bash')
    $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Bash' -OutputDir "onboarding/$me/hello-world" hello.sh $me -Wait
    $run | Format-List ArGuid, Dataset, AccessLevel, Repository, Commit, Cwd, Script, ScriptArguments, OutputDir, ConfigPath, DriverBatchId, User
    $run | Get-BatchJob | Get-BatchJobLog
    Pop-Location

    Write-Host "`n== 2. The batch version: examples/batch/hello.ps1 submits a two-job batch from inside the driver"
    Push-Location (Join-Path $checkout 'examples/batch')
    $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' -OutputDir "onboarding/$me/hello-world" hello.ps1 -NameToPrint $me
    $batches = $run | Wait-Batch
    $batches | Format-Table
    $jobs = $batches | Get-BatchJob
    $jobs | Format-Table
    Write-Host "-- the driver's log:"
    $jobs | Where-Object Name -eq 'driver' | Get-BatchJobLog
    Write-Host "-- the second job's log:"
    $jobs | Where-Object Name -eq 'second job' | Get-BatchJobLog
    Pop-Location

    Write-Host "`n== 3. The audit log, the run's config, and a re-run from the log"
    Push-Location $DemoRoot   # who re-runs is who submits now (this OS account), wherever they stand
    Test-AnalysisLog | Format-List Valid, Entries, HeadHash
    Get-AnalysisLog -Dataset fewgenomes | Format-Table
    $config = $run | Get-CpgConfig
    "workflow.dataset = $($config.workflow.dataset); output_prefix = $($config.workflow.output_prefix); tmp = $($config.storage.default.tmp)"
    $again = Get-AnalysisLog -Dataset fewgenomes -First 1 | Submit-Analysis -Wait
    "Re-ran $($run.ArGuid) as $($again.ArGuid) at commit $($again.Commit)"
    $again | Wait-Batch | Get-BatchJob | Where-Object Name -eq 'second job' | Get-BatchJobLog
    Pop-Location

    Write-Host "`n== 4. What the second job wrote to the run's output folder"
    Get-StorageContent "gs://cpg-fewgenomes-test/onboarding/$me/hello-world/out.txt"
}
finally {
    # The executor lives in the demo's home: stop it before the folder goes.
    $demoHome = Join-Path $DemoRoot 'home'
    if (Test-Path $demoHome) { [AnalysisRunner.Core.Batch.ExecutorClient]::new([AnalysisRunner.Core.Hosting.RunnerHome]::new($demoHome)).Stop() | Out-Null }
    if ($keep) { Write-Host "`nThe demo's runner home and repositories are in $DemoRoot." }
    else {
        Remove-Item -Recurse -Force $DemoRoot -ErrorAction SilentlyContinue
        Write-Host "`nRemoved the demo's folder $DemoRoot (give -DemoRoot <folder> to keep one)."
    }
}
