# Red team (issue 13): attacks on the gate that worked when written. Each It asserts what the gate
# promises, so a failing It here is an attack that succeeded; one still open is marked skipped with the gap it names.
BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

Describe 'Storage cmdlets and links into the runner home' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    # PathInRunnerHome is checked on the path as written (Path.GetFullPath), not on where it leads:
    # a link outside the home to the home uploads its registry (or, once made, keys/run-token.key) into a bucket.
    It 'refuses to upload the registry through a link outside the home that points into it' {
        $ErrorActionPreference = 'Continue'
        Test-Path (Join-Path $world.Home 'registry.toml') | Should -BeTrue
        $link = Join-Path $world.Root 'home-link'
        New-Item -ItemType SymbolicLink -Path $link -Target $world.Home | Out-Null
        $e = Copy-StorageItem (Join-Path $link 'registry.toml') 'gs://cpg-fewgenomes-test/stolen-registry.toml' -Dataset fewgenomes -AccessLevel test 2>&1 |
            Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
        Test-Path (Join-Path $world.Home 'buckets/cpg-fewgenomes-test/stolen-registry.toml') | Should -BeFalse
        $e.FullyQualifiedErrorId | Should -Match '^PathInRunnerHome'
    }
}

# Under the embedded default (sandbox = "auto") a run's driver runs in its batch's sandbox, like every
# batch of the run: the committed script of a test-level run tried to read the run-token key and write
# its dataset's main bucket straight through the file system, as the OS account (it did while drivers
# ran unsandboxed). It reaches the executor only through its batch's run channel.
Describe 'A test-level run''s driver under sandbox = auto' -Tag Slow {
    BeforeAll {
        if (-not (Test-Path /usr/bin/bwrap)) { throw 'This test needs bubblewrap (apt-get install bubblewrap): without it sandbox = auto runs drivers unsandboxed.' }
        $world = New-TestWorld
        Push-Location $world.Checkout
        Add-TestCommit -World $world -Path 'examples/redteam/driver.ps1' -Content @'
$key = Join-Path $env:AR_HOME 'keys/run-token.key'
if (Test-Path $key) { 'read key ' + [Convert]::ToHexString([IO.File]::ReadAllBytes($key)) }
$main = Join-Path $env:AR_HOME 'buckets/cpg-fewgenomes-main'
New-Item -ItemType Directory -Force $main -ErrorAction SilentlyContinue | Out-Null
Set-Content (Join-Path $main 'written-by-a-test-run.txt') 'x' -ErrorAction SilentlyContinue
'done'
'@ | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/redteam')
    }
    AfterAll { Pop-Location; Pop-Location; Remove-TestWorld $world }

    It 'cannot read the run-token key nor write the main bucket' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'red team' -OutputDir 'rt' driver.ps1 -Wait -ErrorAction Continue
        $log = ($run | Get-BatchJob | Get-BatchJobLog) -join "`n"
        $log | Should -Match 'done' -Because "the driver must have run for this to prove anything: $log"
        $readKey = $log -match 'read key'
        $wroteMain = Test-Path (Join-Path $world.Home 'buckets/cpg-fewgenomes-main/written-by-a-test-run.txt')
        "read key: $readKey; wrote main: $wroteMain" | Should -Be 'read key: False; wrote main: False'
    }
}
