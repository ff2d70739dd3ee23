# The token cmdlets against a live AnalysisRunner.Server on a throwaway PostgreSQL cluster: what the
# server refuses comes back as the same ErrorRecord the embedded mode writes. Skipped, saying why,
# where PostgreSQL's server binaries are missing (.ci/run installs them).

BeforeDiscovery {
    $script:pgBin = @(Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue | Sort-Object FullName -Descending)[0].Directory.FullName
}

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    $script:pgBin = @(Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue | Sort-Object FullName -Descending)[0].Directory.FullName
    $script:isRoot = (id -u) -eq '0'
    function Invoke-AsPostgres([string] $File, [string[]] $Arguments) {
        $output = if ($script:isRoot) { & runuser -u postgres -- $File @Arguments 2>&1 } else { & $File @Arguments 2>&1 }
        if ($LASTEXITCODE) { throw "$File failed: $output" }
    }
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

    # PostgreSQL: initdb and pg_ctl as the postgres user (initdb refuses root), socket in our folder.
    if ($isRoot) { & chown postgres:postgres $root }
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start(); $script:pgPort = $probe.LocalEndpoint.Port; $probe.Stop()
    Invoke-AsPostgres "$pgBin/initdb" @('-D', "$root/pg", '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync')
    Invoke-AsPostgres "$pgBin/pg_ctl" @('-D', "$root/pg", '-l', "$root/pg.log", '-w', '-o', "-p $pgPort -k $root -c listen_addresses=127.0.0.1 -c fsync=off", 'start')
    $settings = Join-Path $root 'server.toml'
    Set-Content $settings "[server]`nurls = `"http://127.0.0.1:0`"`n[database]`nconnection_string = `"Host=127.0.0.1;Port=$pgPort;Username=postgres;Database=postgres`"`n"

    # The server as an admin would run it (built by the Test task's xunit step; built here otherwise).
    $serverProject = Join-Path $PSScriptRoot '../../src/AnalysisRunner.Server'
    $serverDll = Join-Path $serverProject 'bin/Release/net10.0/AnalysisRunner.Server.dll'
    if (-not (Test-Path $serverDll)) { & dotnet build $serverProject -c Release -nologo -v quiet | Out-Null }
    $admin = & dotnet $serverDll token issue --user root@lab.org --admin --settings $settings
    $script:adminToken = (($admin | Where-Object { $_ -like 'token *' }) -split '\s+')[1]
    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($argument in @($serverDll, '--settings', $settings)) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true; $start.RedirectStandardInput = $true
    $script:server = [System.Diagnostics.Process]::Start($start)
    $script:serverUri = $null
    while ($null -ne ($line = $server.StandardOutput.ReadLine())) {
        if ($line -match 'listening on (http://\S+)') { $script:serverUri = $Matches[1]; break }
    }
    if (-not $serverUri) { throw "the server did not start: $($server.StandardError.ReadToEnd())" }
}

AfterAll {
    if ($script:server) { $server.Kill(); $server.WaitForExit() }
    if ($pgBin -and (Test-Path "$root/pg/postmaster.pid")) { Invoke-AsPostgres "$pgBin/pg_ctl" @('-D', "$root/pg", '-m', 'fast', '-w', 'stop') }
    foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] }
    if ($root -and (Test-Path $root)) { Remove-Item -Recurse -Force $root }
}

Describe 'Token cmdlets against a live server' -Skip:(-not $pgBin) {
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
