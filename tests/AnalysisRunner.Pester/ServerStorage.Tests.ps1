# The storage cmdlets against a live AnalysisRunner.Server (issue 15): with a server configured,
# Get-StorageItem and Get-StorageContent list and read through it with the token's user's scope,
# refusals are the ErrorRecords the runner home gives, and the cmdlets that write say they do not
# work through a server instead of quietly using a local home. Skipped, saying why, where
# PostgreSQL's server binaries are missing (.ci/run installs them).

# Tagged Slow (CI runs them, the quick default does not): a PostgreSQL cluster and a server process
# for the file, and drivers in fresh pwsh processes; xunit covers the same API in-process in the quick run.
BeforeDiscovery {
    $script:hasPostgres = @(Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue).Count -gt 0
}

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    function Get-ErrorOf([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        & $Command 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
    }

    $script:saved = @{ AR_HOME = $env:AR_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; AR_SERVER = $env:AR_SERVER; AR_TOKEN = $env:AR_TOKEN }
    $env:AR_SERVER = $null; $env:AR_TOKEN = $null
    if (-not (Get-TestPostgresBin)) { return }

    $script:world = New-TestWorld
    # alice is a member of othergenomes only; tester of fewgenomes.
    Set-TestRegistry -World $world -TestMembers @('tester@example.org') -StandardMembers @('tester@example.org') `
        -FullMembers @('tester@example.org') -Repositories @($world.Origin) -OtherTestMembers @('alice@lab.org')
    $env:XDG_CONFIG_HOME = Join-Path $world.Root 'config'
    # The pwsh shim jobs run pwsh through is written by a client opening the home.
    Get-Batch -RunnerHome $world.Home | Out-Null

    $script:serverRoot = New-TestRoot
    $script:server = Start-TestServer -Root $serverRoot -RunnerHome $world.Home
    $script:uri = $server.Uri
    $script:testerToken = New-TestServerToken $server -User tester@example.org
    $script:aliceToken = New-TestServerToken $server -User alice@lab.org
}

AfterAll {
    Stop-TestServer $script:server
    if ($script:world) { Remove-TestWorld $world }
    foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] }
    if ($script:serverRoot -and (Test-Path $serverRoot)) { Remove-Item -Recurse -Force $serverRoot }
}

Describe 'Storage through a live server' -Tag Slow -Skip:(-not $hasPostgres) {
    BeforeAll {
        # The batch onboarding run, submitted through the server, writes out.txt to the test bucket: its
        # driver imports the module the server runs batches with ([runner] module) to submit the batch.
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $env:AR_TOKEN = $testerToken
        $script:run = Submit-Analysis -Server $uri -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' `
            -OutputDir 'onboarding/tester/hello-world' hello.ps1 -NameToPrint tester
        $script:waited = @($run | Wait-Batch -Server $uri -Timeout 300)
        $script:out = 'gs://cpg-fewgenomes-test/onboarding/tester/hello-world/out.txt'
        # The other dataset's bucket holds something, so a refusal is about scope, not an empty bucket.
        $secretFile = Join-Path $world.Root 'secret.txt'
        Set-Content $secretFile 'secret'
        Set-TestIdentity -World $world -Email alice@lab.org
        Copy-StorageItem $secretFile 'gs://cpg-othergenomes-test/secret.txt' -RunnerHome $world.Home -Confirm:$false | Out-Null
        Set-TestIdentity -World $world -Email tester@example.org
        $script:secret = 'gs://cpg-othergenomes-test/secret.txt'
    }
    AfterAll { Pop-Location; $env:AR_TOKEN = $null }

    It 'the batch onboarding submitted through the server writes its output, and Get-StorageContent reads it through the server' {
        $waited.State | Should -Be @('Succeeded', 'Succeeded')
        Get-StorageContent -Server $uri $out | Should -Be @('Hello, tester')
        Get-StorageContent -Server $uri $out -Raw | Should -Be (Get-StorageContent -RunnerHome $world.Home $out -Raw)
        $item = Get-StorageItem -Server $uri 'gs://cpg-fewgenomes-test/onboarding/tester/hello-world/'
        $item.Path | Should -Be @($out)
        $item | Should -BeOfType ([AnalysisRunner.Core.Storage.StorageEntry])
        # AR_SERVER alone picks the server, as for runs and batches.
        $env:AR_SERVER = $uri
        try { Get-StorageContent $out | Should -Be @('Hello, tester') } finally { $env:AR_SERVER = $null }
    }

    It 'another dataset''s bucket is the same ErrorRecord through the server as in the runner home' {
        # tester is no member of othergenomes: not as the server's token user, not as this OS account in the home.
        $env:AR_SERVER = $uri
        try {
            $remote = Get-ErrorOf { Get-StorageContent $secret }
            $remoteList = Get-ErrorOf { Get-StorageItem 'gs://cpg-othergenomes-test/' -Recurse }
        } finally { $env:AR_SERVER = $null }
        $embedded = Get-ErrorOf { Get-StorageContent -RunnerHome $world.Home $secret }
        $embeddedList = Get-ErrorOf { Get-StorageItem -RunnerHome $world.Home 'gs://cpg-othergenomes-test/' -Recurse }
        $remote.FullyQualifiedErrorId | Should -BeLike 'NotAMember,*'
        $remote.FullyQualifiedErrorId | Should -Be $embedded.FullyQualifiedErrorId
        $remoteList.FullyQualifiedErrorId | Should -Be $embeddedList.FullyQualifiedErrorId
        $remote.CategoryInfo.Category | Should -Be $embedded.CategoryInfo.Category
        $remote.Exception.Message | Should -Be $embedded.Exception.Message
        # alice reads it through the same server: the refusal was tester's scope, not a missing object.
        $env:AR_TOKEN = $aliceToken
        try { Get-StorageContent -Server $uri $secret | Should -Be 'secret' } finally { $env:AR_TOKEN = $testerToken }
    }

    It 'a local path is refused by the server, never read from its disk' {
        $e = Get-ErrorOf { Get-StorageContent -Server $uri (Join-Path $world.Home 'registry.toml') }
        $e.FullyQualifiedErrorId | Should -BeLike 'UnsupportedScheme,*'
    }

    It 'Copy-StorageItem and Remove-StorageItem with a server say they do not write through it, and write nothing' {
        $local = Join-Path $world.Root 'up.txt'
        Set-Content $local 'up'
        $copy = Get-ErrorOf { Copy-StorageItem -Server $uri $local 'gs://cpg-fewgenomes-test/onboarding/up.txt' }
        $copy.FullyQualifiedErrorId | Should -BeLike 'StorageWriteNotOverServer,*'
        $copy.Exception.Message | Should -Match '-RunnerHome'
        $remove = Get-ErrorOf { Remove-StorageItem -Server $uri $out -Confirm:$false }
        $remove.FullyQualifiedErrorId | Should -BeLike 'StorageWriteNotOverServer,*'
        Get-StorageContent -Server $uri $out | Should -Be @('Hello, tester')
        (Get-ErrorOf { Get-StorageItem -Server $uri 'gs://cpg-fewgenomes-test/onboarding/up.txt' }).FullyQualifiedErrorId | Should -BeLike 'ObjectNotFound,*'
    }
}
