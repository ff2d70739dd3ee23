# Red team (issue 13): attacks on the gate that worked when written. Each It asserts what the gate
# promises, so a failing It here is an attack that succeeded (the product is not changed on this branch).
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
