# Bearer tokens and the server settings, as an admin and a user would use them from pwsh. The
# server side (HTTP, PostgreSQL) is tested in xunit (tests/AnalysisRunner.Core.Tests/Server).

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    function Get-ErrorOf([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        & $Command 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
    }

    $script:saved = @{ AR_HOME = $env:AR_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; AR_SERVER = $env:AR_SERVER; AR_TOKEN = $env:AR_TOKEN }
    $script:root = New-TestRoot
    $env:AR_HOME = Join-Path $root 'home'
    $env:XDG_CONFIG_HOME = Join-Path $root 'config'
    $env:AR_SERVER = $null
    $env:AR_TOKEN = $null
}

AfterAll {
    foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] }
    if ($root -and (Test-Path $root)) { Remove-Item -Recurse -Force $root }
}

Describe 'Tokens in an embedded runner home' {
    It 'New-AnalysisRunnerToken shows the token once, with a warning, and Get-AnalysisRunnerToken never shows it' {
        $issued = New-AnalysisRunnerToken -User Alice@Lab.org -ExpiresIn (New-TimeSpan -Days 30) -Description laptop -WarningVariable warned 3>$null

        $issued.User | Should -Be 'alice@lab.org'
        $issued.Token | Should -Match '^art_[A-Za-z0-9_-]{43}$'
        "$warned" | Should -Match 'shown only now'
        $listed = Get-AnalysisRunnerToken -User alice@lab.org
        $listed.Id | Should -Be $issued.Id
        $listed.State | Should -Be 'Active'
        $listed.Description | Should -Be 'laptop'
        ($listed | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($issued.Token.Substring(4)))
        ($listed | Format-Table | Out-String) | Should -Match 'alice@lab.org'
        (Get-Content -Raw -AsByteStream (Join-Path $env:AR_HOME 'runner.db') | ForEach-Object { [Text.Encoding]::Latin1.GetString($_) }) |
            Should -Not -Match ([regex]::Escape($issued.Token.Substring(4)))
    }

    It 'New-AnalysisRunnerToken -WhatIf issues nothing' {
        New-AnalysisRunnerToken -User whatif@lab.org -WhatIf
        Get-AnalysisRunnerToken -User whatif@lab.org -IncludeInactive | Should -BeNullOrEmpty
    }

    It 'refuses a user that is not an email address with InvalidTokenUser' {
        $err = Get-ErrorOf { New-AnalysisRunnerToken -User alice 3>$null }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidTokenUser,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be 'alice'
    }

    It 'Revoke-AnalysisRunnerToken takes tokens from the pipeline and by user' {
        $one = New-AnalysisRunnerToken -User bob@lab.org 3>$null
        $two = New-AnalysisRunnerToken -User bob@lab.org -Admin 3>$null

        $revoked = Get-AnalysisRunnerToken -Id $one.Id | Revoke-AnalysisRunnerToken
        $revoked.State | Should -Be 'Revoked'
        (Get-AnalysisRunnerToken -User bob@lab.org).Id | Should -Be $two.Id

        (Revoke-AnalysisRunnerToken -User BOB@lab.org).Id | Should -Be $two.Id
        Get-AnalysisRunnerToken -User bob@lab.org | Should -BeNullOrEmpty
        (Get-AnalysisRunnerToken -User bob@lab.org -IncludeInactive).State | Should -Be @('Revoked', 'Revoked')
    }

    It 'an unknown id is TokenNotFound and the other ids are still revoked' {
        $kept = New-AnalysisRunnerToken -User carol@lab.org 3>$null
        $all = & { $ErrorActionPreference = 'Continue'; Revoke-AnalysisRunnerToken -Id '0000000000000000', $kept.Id 2>&1 }
        $err = $all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }
        $err.FullyQualifiedErrorId | Should -BeLike 'TokenNotFound,*'
        $err.TargetObject | Should -Be '0000000000000000'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        (Get-AnalysisRunnerToken -Id $kept.Id).State | Should -Be 'Revoked'
    }
}

Describe 'Set-AnalysisRunnerServer' {
    It 'stores the server and the token in a file only the user can read, and never shows the token' {
        $secret = ConvertTo-SecureString 'art_pester-secret' -AsPlainText -Force
        $output = Set-AnalysisRunnerServer -Uri https://runner.lab.org -Token $secret -Verbose *>&1
        ($output | Out-String) | Should -Not -Match 'pester-secret'
        @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }) | Should -BeNullOrEmpty

        $folder = Join-Path $env:XDG_CONFIG_HOME 'analysis-runner'
        (Get-Item (Join-Path $folder 'token')).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        (Get-Item $folder).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        (Get-Content (Join-Path $folder 'token')) | Should -Be 'art_pester-secret'
        Get-Content -Raw (Join-Path $folder 'client.toml') | Should -Not -Match 'pester-secret'
    }

    It 'refuses plain http to another machine with InsecureServerUri' {
        $err = try { Set-AnalysisRunnerServer -Uri http://runner.lab.org; $null } catch { $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InsecureServerUri,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Test-Path (Join-Path $env:XDG_CONFIG_HOME 'analysis-runner/client.toml') | Should -BeTrue
        Get-Content -Raw (Join-Path $env:XDG_CONFIG_HOME 'analysis-runner/client.toml') | Should -Match 'https://runner.lab.org'
    }

    It 'makes the token cmdlets go to the server, and -RunnerHome back to the home' {
        # A port nothing listens on: the error shows the cmdlet went over HTTP and mapped the failure.
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        Set-AnalysisRunnerServer -Uri "http://127.0.0.1:$port"

        $err = Get-ErrorOf { Get-AnalysisRunnerToken }
        $err.FullyQualifiedErrorId | Should -BeLike 'ServerUnreachable,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'

        (Get-AnalysisRunnerToken -RunnerHome $env:AR_HOME -IncludeInactive).Count | Should -BeGreaterThan 0

        Set-AnalysisRunnerServer -Clear
        Test-Path (Join-Path $env:XDG_CONFIG_HOME 'analysis-runner/token') | Should -BeFalse
        (Get-AnalysisRunnerToken -IncludeInactive).Count | Should -BeGreaterThan 0
    }
}
