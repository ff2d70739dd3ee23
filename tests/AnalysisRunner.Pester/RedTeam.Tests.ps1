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

# Under the embedded default (sandbox = "auto") a run's driver runs unsandboxed (architecture.md,
# "Not done yet"): the committed script of a test-level run reads the run-token key and writes its
# dataset's main bucket straight through the file system, as the OS account.
Describe 'A test-level run''s driver under sandbox = auto' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location $world.Checkout
        Add-TestCommit -World $world -Path 'examples/redteam/driver.ps1' -Content @'
$key = Join-Path $env:AR_HOME 'keys/run-token.key'
if (Test-Path $key) { 'read key ' + [Convert]::ToHexString([IO.File]::ReadAllBytes($key)) }
$main = Join-Path $env:AR_HOME 'buckets/cpg-fewgenomes-main'
New-Item -ItemType Directory -Force $main | Out-Null
Set-Content (Join-Path $main 'written-by-a-test-run.txt') 'x'
'done'
'@ | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/redteam')
    }
    AfterAll { Pop-Location; Pop-Location; Remove-TestWorld $world }

    # OPEN GAP, not fixed: under sandbox = "auto" a run's driver runs unsandboxed (its New-Batch and
    # Submit-Batch need runner.db, keys/ and the executor, which a sandbox hides; the channel over the
    # executor's socket is not built), so this attack still works. Pending, not passing: the lead
    # reports it as open; remove the Set-ItResult line when drivers are sandboxed (architecture.md, "The job sandbox", Not done).
    It 'cannot read the run-token key nor write the main bucket' {
        Set-ItResult -Skipped -Because 'OPEN GAP (red team 6): under sandbox = auto a run''s driver runs unsandboxed and reads keys/run-token.key and writes its dataset''s main bucket; fixed only when drivers are sandboxed (the executor-socket channel for New-Batch/Submit-Batch is not built)'
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'red team' -OutputDir 'rt' driver.ps1 -Wait -ErrorAction Continue
        $log = ($run | Get-BatchJob | Get-BatchJobLog) -join "`n"
        $log | Should -Match 'done' -Because "the driver must have run for this to prove anything: $log"
        $readKey = $log -match 'read key'
        $wroteMain = Test-Path (Join-Path $world.Home 'buckets/cpg-fewgenomes-main/written-by-a-test-run.txt')
        "read key: $readKey; wrote main: $wroteMain" | Should -Be 'read key: False; wrote main: False'
    }
}
