# The token cmdlets against a live AnalysisRunner.Server on a throwaway PostgreSQL cluster: what the
# server refuses comes back as the same ErrorRecord the embedded mode writes. Skipped, saying why,
# where PostgreSQL's server binaries are missing (.ci/run installs them).
# Tagged Slow (CI runs them, the quick default does not), like the other files against a live server:
# a PostgreSQL cluster and a server process cost more than the four checks; xunit's
# AuthenticationTests (token issue, list, revoke, 401s and 403s) covers the same API in-process in the quick tier.

BeforeDiscovery {
    $script:pgBin = @(Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue).Count -gt 0
}

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    $script:pgBin = Get-TestPostgresBin
    function Get-ErrorOf([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        & $Command 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
    }

    $script:saved = @{ AR_HOME = $env:AR_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; AR_SERVER = $env:AR_SERVER; AR_TOKEN = $env:AR_TOKEN }
    $script:root = New-TestRoot
    $env:AR_HOME = Join-Path $root 'home'
    $env:XDG_CONFIG_HOME = Join-Path $root 'config'
    $env:AR_SERVER = $null; $env:AR_TOKEN = $null
    if (-not $pgBin) { return }

    $script:server = Start-TestServer -Root $root
    $script:serverUri = $server.Uri
    $script:adminToken = New-TestServerToken $server -User root@lab.org -Admin
}

AfterAll {
    Stop-TestServer $script:server
    foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] }
    if ($root -and (Test-Path $root)) { Remove-Item -Recurse -Force $root }
}

Describe 'Token cmdlets against a live server' -Tag Slow -Skip:(-not $pgBin) {
    It 'a server pointed at a PostgreSQL that asks for no password will not start, and says why and what to change' {
        $trusting = Join-Path $root 'trusting'
        New-Item -ItemType Directory $trusting | Out-Null

        { Start-TestServer -Root $trusting -DatabaseTrustsEveryone } |
            Should -Throw '*cannot start:*let the server in with a password it made up*pg_hba.conf*allow_without_password*(DatabaseAcceptsAnyPassword)*'
        Test-Path "$trusting/pg/postmaster.pid" | Should -BeFalse
    }

    It 'an admin token issues, lists and revokes tokens on the server' {
        $env:AR_TOKEN = $adminToken
        $bob = New-AnalysisRunnerToken -User Bob@Lab.org -Server $serverUri -ExpiresIn (New-TimeSpan -Hours 1) 3>$null
        $bob.User | Should -Be 'bob@lab.org'
        (Get-AnalysisRunnerToken -User bob@lab.org -Server $serverUri).Id | Should -Be $bob.Id
        Get-AnalysisRunnerToken -User bob@lab.org -RunnerHome $env:AR_HOME | Should -BeNullOrEmpty
        (Revoke-AnalysisRunnerToken -Id $bob.Id -Server $serverUri).State | Should -Be 'Revoked'
    }

    It 'a token without the admin role gets the PermissionDenied ErrorRecord AdminRoleRequired' {
        $env:AR_TOKEN = $adminToken
        $carol = New-AnalysisRunnerToken -User carol@lab.org -Server $serverUri 3>$null
        Set-AnalysisRunnerServer -Uri $serverUri -Token (ConvertTo-SecureString $carol.Token -AsPlainText -Force)
        $env:AR_TOKEN = $null

        $err = Get-ErrorOf { New-AnalysisRunnerToken -User carol@lab.org -Admin 3>$null }
        $err.FullyQualifiedErrorId | Should -BeLike 'AdminRoleRequired,*'
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err.TargetObject | Should -Be 'carol@lab.org'
        Set-AnalysisRunnerServer -Clear
    }

    It 'an unknown id is the same TokenNotFound ErrorRecord on the server as in the runner home' {
        $env:AR_TOKEN = $adminToken
        $remote = Get-ErrorOf { Revoke-AnalysisRunnerToken -Id 'feedfeedfeedfeed' -Server $serverUri }
        $embedded = Get-ErrorOf { Revoke-AnalysisRunnerToken -Id 'feedfeedfeedfeed' -RunnerHome $env:AR_HOME }
        $remote.FullyQualifiedErrorId | Should -BeLike 'TokenNotFound,*'
        $remote.FullyQualifiedErrorId | Should -Be $embedded.FullyQualifiedErrorId
        $remote.CategoryInfo.Category | Should -Be $embedded.CategoryInfo.Category
        $remote.TargetObject | Should -Be $embedded.TargetObject
        $remote.Exception.Message | Should -Be $embedded.Exception.Message
    }

    It 'a forged token is refused with the AuthenticationError ErrorRecord TokenInvalid' {
        $env:AR_TOKEN = 'art_' + ('A' * 43)
        $err = Get-ErrorOf { Get-AnalysisRunnerToken -Server $serverUri }
        $err.FullyQualifiedErrorId | Should -BeLike 'TokenInvalid,*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
    }
}
