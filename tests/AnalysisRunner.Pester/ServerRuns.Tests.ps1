# The run and batch cmdlets against a live AnalysisRunner.Server (issue 15, phase 2): the onboarding
# exercise through -Server with a token, and hostile requests straight at the API, each refused with
# its status and ErrorId and leaving nothing behind. The server reads and writes the test world's
# runner home; tokens live in a throwaway PostgreSQL cluster. Skipped, saying why, where PostgreSQL's
# server binaries are missing (.ci/run installs them).

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
    # alice is a member of othergenomes only: her token must not reach fewgenomes' runs. dora is
    # tester's colleague at test: she may read tester's runs, not stop or remove them.
    Set-TestRegistry -World $world -TestMembers @('tester@example.org', 'dora@lab.org') -StandardMembers @('tester@example.org') `
        -FullMembers @('tester@example.org') -Repositories @($world.Origin) -OtherTestMembers @('alice@lab.org')
    $env:XDG_CONFIG_HOME = Join-Path $world.Root 'config'
    # The pwsh shim jobs run pwsh through is written by a client opening the home.
    Get-Batch -RunnerHome $world.Home | Out-Null

    $script:serverRoot = New-TestRoot
    $script:maxBody = 65536
    $script:server = Start-TestServer -Root $serverRoot -RunnerHome $world.Home -MaxRequestBodyBytes $maxBody
    $script:uri = $server.Uri
    $script:testerToken = New-TestServerToken $server -User tester@example.org
    $script:aliceToken = New-TestServerToken $server -User alice@lab.org
    $script:doraToken = New-TestServerToken $server -User dora@lab.org

    $script:http = [System.Net.Http.HttpClient]::new()
    $http.BaseAddress = [Uri] $uri
    <# One request as a script would send it; the answer's status and, for a problem, its members. #>
    function Send-Api([string] $Method, [string] $Path, [string] $Body, [string] $Token) {
        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($Method), $Path.TrimStart('/'))
        if ($Token) { $request.Headers.Authorization = [System.Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $Token) }
        if ($PSBoundParameters.ContainsKey('Body')) { $request.Content = [System.Net.Http.StringContent]::new($Body, [Text.Encoding]::UTF8, 'application/json') }
        $response = $http.SendAsync($request).GetAwaiter().GetResult()
        $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        [pscustomobject]@{
            Status = [int] $response.StatusCode
            ErrorId = if ($text.StartsWith('{')) { ($text | ConvertFrom-Json).errorId }
            Text = $text
        }
    }
    function Get-Footprint {
        $configs = Join-Path $world.Home 'configs'
        '{0} configs, {1} runs, {2} batches' -f @(if (Test-Path $configs) { Get-ChildItem -Force $configs }).Count,
            @(Get-AnalysisLog -RunnerHome $world.Home).Count, @(Get-Batch -RunnerHome $world.Home -First 100000).Count
    }
    <# The facts of the onboarding run as a client sends them, with $Change applied (a $null value removes the member). #>
    function New-FactsJson([hashtable] $Change = @{}) {
        $facts = [ordered]@{
            dataset = 'fewgenomes'; accessLevel = 'test'; description = 'hostile'; outputDir = 'onboarding/tester/hostile'
            script = 'hello.ps1'; scriptArguments = @('-NameToPrint', 'tester')
            repositoryUrl = $world.Origin; commit = $world.Commit; cwd = 'examples/powershell'
        }
        foreach ($key in $Change.Keys) { if ($null -eq $Change[$key]) { $facts.Remove($key) } else { $facts[$key] = $Change[$key] } }
        $facts | ConvertTo-Json -Depth 5 -Compress
    }
}

AfterAll {
    if ($script:http) { $http.Dispose() }
    Stop-TestServer $script:server
    if ($script:world) { Remove-TestWorld $world }
    foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] }
    if ($script:serverRoot -and (Test-Path $serverRoot)) { Remove-Item -Recurse -Force $serverRoot }
}

Describe 'The onboarding exercise against a live server' -Tag Slow -Skip:(-not $hasPostgres) {
    BeforeAll {
        $env:AR_TOKEN = $testerToken
        Push-Location (Join-Path $world.Checkout 'examples/powershell')
        $script:info = $null
        $script:run = Submit-Analysis -Server $uri -Dataset fewgenomes -AccessLevel test -Description 'Run PowerShell' `
            -OutputDir 'onboarding/tester/hello-world' hello.ps1 -NameToPrint tester -InformationVariable info
        $script:waited = @($run | Wait-Batch -Server $uri)
    }
    AfterAll { Pop-Location; $env:AR_TOKEN = $null }

    It 'Submit-Analysis sends facts and gets back the run the server logged, as the token''s user' {
        $run | Should -BeOfType ([AnalysisRunner.Core.Runs.RunRecord])
        $run.User | Should -Be 'tester@example.org'
        $run.Repository | Should -Be $world.Origin
        $run.Commit | Should -Be $world.Commit
        $run.Cwd | Should -Be 'examples/powershell'
        $run.ScriptArguments | Should -Be @('-NameToPrint', 'tester')
        ($info | Out-String) | Should -Match ([regex]::Escape("Submitted run $($run.ArGuid) (driver batch $($run.DriverBatchId))"))
        (Get-AnalysisLog -Server $uri -ArGuid $run.ArGuid).ArGuid | Should -Be $run.ArGuid
        (Get-AnalysisLog -RunnerHome $world.Home -ArGuid $run.ArGuid).EntryHash | Should -Not -BeNullOrEmpty
    }

    It 'Wait-Batch waits through the server until the driver batch has succeeded' {
        $waited.Count | Should -Be 1
        $waited[0].Id | Should -Be $run.DriverBatchId
        $waited[0].State | Should -Be 'Succeeded'
    }

    It 'Get-BatchJob and Get-BatchJobLog show the driver said hello' {
        $jobs = @($run | Get-BatchJob -Server $uri)
        $jobs.Count | Should -Be 1
        $jobs[0].State | Should -Be 'Succeeded'
        ($jobs | Get-BatchJobLog -Server $uri) | Should -Contain 'Hello, tester!'
        ($jobs | Get-BatchJobLog -Server $uri -Follow) | Should -Contain 'Hello, tester!'
        (Get-BatchJobLog -Server $uri -BatchId $run.DriverBatchId -JobId $jobs[0].JobId -ListAttempts).ExitCode | Should -Be 0
    }

    It 'Get-Batch and Get-CpgConfig read the run through the server' {
        (Get-Batch -Server $uri -ArGuid $run.ArGuid).Id | Should -Be $run.DriverBatchId
        ($run | Get-CpgConfig -Server $uri).workflow.ar_guid | Should -Be $run.ArGuid
        (Get-CpgConfig -Server $uri -ArGuid $run.ArGuid).workflow.dataset | Should -Be 'fewgenomes'
    }

    It 'Submit-Analysis -WhatIf shows the server''s plan and writes nothing' {
        $before = Get-Footprint
        $plan = Submit-Analysis -Server $uri -Dataset fewgenomes -AccessLevel test -Description 'plan only' `
            -OutputDir 'onboarding/tester/plan' hello.ps1 -NameToPrint tester -WhatIf
        $plan | Should -BeOfType ([AnalysisRunner.Core.Runs.RunPlan])
        $plan.Run.User | Should -Be 'tester@example.org'
        $plan.ConfigToml | Should -Match 'ar_guid'
        Get-Footprint | Should -Be $before
    }

    It 'Get-AnalysisUsage counts the driver''s job through the server, as the token''s user' {
        $byUser = @(Get-AnalysisUsage -Server $uri fewgenomes -By User)
        $byUser.Key | Should -Contain 'tester@example.org'
        ($byUser | Where-Object Key -eq 'tester@example.org').Jobs | Should -BeGreaterOrEqual 1
        (Get-AnalysisUsage -Server $uri fewgenomes -By Batch).Key | Should -Contain "$($run.DriverBatchId)"
        (Get-ErrorOf { Get-AnalysisUsage -Server $uri nosuchdata }).FullyQualifiedErrorId | Should -BeLike 'NotADatasetMember,*'
        # The same ErrorRecord as in-process (Usage.Tests.ps1): the window is Core's UsageWindow either way.
        $tooLong = Get-ErrorOf { Get-AnalysisUsage -Server $uri fewgenomes -Since 2001-01-01 }
        $tooLong.FullyQualifiedErrorId | Should -BeLike 'UsageWindowTooLong,*'
        ($tooLong.CategoryInfo.Category, $tooLong.TargetObject) | Should -Be @('InvalidArgument', '2001-01-01')
    }

    It 'Test-AnalysisLog verifies the server''s chain for an admin''s token and refuses a member''s' {
        (Get-ErrorOf { Test-AnalysisLog -Server $uri }).FullyQualifiedErrorId | Should -BeLike 'AdminRoleRequired,*'
        $env:AR_TOKEN = New-TestServerToken $server -User root@example.org -Admin
        try { $verdict = Test-AnalysisLog -Server $uri }
        finally { $env:AR_TOKEN = $testerToken }
        $verdict.Valid | Should -BeTrue
        $verdict.Entries | Should -BeGreaterOrEqual 1
        $verdict.HeadHash | Should -Match '^[0-9a-f]{64}$'
    }

    It 'a batch the server does not have is the same BatchNotFound ErrorRecord as in the runner home' {
        $remote = Get-ErrorOf { Get-Batch -Server $uri -Id 987654 }
        $embedded = Get-ErrorOf { Get-Batch -RunnerHome $world.Home -Id 987654 }
        $remote.FullyQualifiedErrorId | Should -BeLike 'BatchNotFound,*'
        $remote.FullyQualifiedErrorId | Should -Be $embedded.FullyQualifiedErrorId
        $remote.CategoryInfo.Category | Should -Be $embedded.CategoryInfo.Category
        $remote.Exception.Message | Should -Be $embedded.Exception.Message
    }

    It 'a run piped from Get-AnalysisLog runs again through the server, from the server''s own log entry' {
        $again = Get-AnalysisLog -Server $uri -ArGuid $run.ArGuid | Submit-Analysis -Server $uri
        $again.RerunOf | Should -Be $run.ArGuid
        $again.ArGuid | Should -Not -Be $run.ArGuid
        $again.User | Should -Be 'tester@example.org'
        @($again | Wait-Batch -Server $uri)[0].State | Should -Be 'Succeeded'
        ($again | Get-BatchJob -Server $uri | Get-BatchJobLog -Server $uri) | Should -Contain 'Hello, tester!'
    }

    It 'Remove-Batch removes the finished batch through the server' {
        Remove-Batch -Server $uri -Id $run.DriverBatchId -Confirm:$false
        (Get-ErrorOf { Get-Batch -RunnerHome $world.Home -Id $run.DriverBatchId }).FullyQualifiedErrorId | Should -BeLike 'BatchNotFound,*'
    }
}

Describe 'The server''s OpenAPI document' -Tag Slow -Skip:(-not $hasPostgres) {
    It 'lists every run, batch and usage route the cmdlets use' {
        $paths = (Send-Api GET /openapi/v1.json).Text | ConvertFrom-Json -AsHashtable | ForEach-Object { $_.paths.Keys }
        foreach ($route in '/api/v1/runs', '/api/v1/runs/plan', '/api/v1/runs/{arGuid}/rerun', '/api/v1/runs/{arGuid}/rerun/plan',
            '/api/v1/runs/{arGuid}/cancel', '/api/v1/runs/{arGuid}/config', '/api/v1/batches', '/api/v1/batches/watch',
            '/api/v1/batches/{batchId}', '/api/v1/batches/{batchId}/cancel', '/api/v1/batches/{batchId}/resume',
            '/api/v1/batches/{batchId}/jobs/{jobId}/attempts', '/api/v1/batches/{batchId}/jobs/{jobId}/attempts/{attempt}/{stream}',
            '/api/v1/datasets/{dataset}/usage', '/api/v1/admin/audit-log/verification') {
            $paths | Should -Contain $route
        }
    }
}

Describe 'Script arguments through the server run verbatim' -Tag Slow -Skip:(-not $hasPostgres) {
    It 'quotes, $(), backticks and newlines reach the script as the words they were' {
        $env:AR_TOKEN = $testerToken
        $commit = Add-TestCommit $world 'examples/bash/words.sh' "#!/usr/bin/env bash`nprintf '[%s]\n' `"`$@`"`n"
        $marker = Join-Path $world.Root 'interpreted'
        $words = @("it's `"quoted`"", "`$(touch $marker)", ('`touch ' + $marker + '`'), "two`nlines", '; rm -rf ~')
        $run = Submit-Analysis -Server $uri -Dataset fewgenomes -AccessLevel test -Description 'words' -OutputDir 'onboarding/tester/words' `
            -Repository $world.Origin -Commit $commit -Cwd 'examples/bash' words.sh @words
        $waited = @($run | Wait-Batch -Server $uri)
        $waited[0].State | Should -Be 'Succeeded'
        # The runner's own lines (the checkout) come first; the script's are the rest.
        $log = @($run | Get-BatchJob -Server $uri | Get-BatchJobLog -Server $uri | Where-Object { $_ -notlike '`[runner *' })
        $log | Should -Be @("[it's `"quoted`"]", "[`$(touch $marker)]", ('[`touch ' + $marker + '`]'), '[two', 'lines]', '[; rm -rf ~]')
        Test-Path $marker | Should -BeFalse
        $env:AR_TOKEN = $null
    }
}

Describe 'Hostile requests to the server are refused and write nothing' -Tag Slow -Skip:(-not $hasPostgres) {
    BeforeAll {
        # A commit only on a branch: not on main, so not for standard or full.
        Invoke-Git -C $world.Checkout checkout -q -b feature | Out-Null
        $script:branchCommit = Add-TestCommit $world 'examples/powershell/branch.ps1' "'branch'" -NoPush
        Invoke-Git -C $world.Checkout push -q origin feature | Out-Null
        Invoke-Git -C $world.Checkout checkout -q main | Out-Null
        # Issued to expire a second from now (rows are sealed: an expiry written into the database is a forged row, TokenInvalid).
        $script:expiredToken = New-TestServerToken $server -User carl@lab.org -ExpiresIn 1s
        $script:expiredAt = [DateTimeOffset]::UtcNow.AddSeconds(1)
        $script:revokedToken = New-TestServerToken $server -User bob@lab.org
        & dotnet $server.Dll token revoke --user bob@lab.org --settings $server.Settings | Out-Null
        # A batch of fewgenomes for alice to reach for.
        $env:AR_TOKEN = $testerToken
        $script:victim = Submit-Analysis -Server $uri -Dataset fewgenomes -AccessLevel test -Description 'victim' `
            -OutputDir 'onboarding/tester/victim' -Repository $world.Origin -Commit $world.Commit -Cwd 'examples/bash' -SkipRepoCheckout sleep 600
        $env:AR_TOKEN = $null
    }
    AfterAll {
        $env:AR_TOKEN = $testerToken
        if ($script:victim) { Stop-Batch -Server $uri -Run $victim -Confirm:$false }
        $env:AR_TOKEN = $null
    }
    # What a refused request must not have written: configs, audit rows, batches (the victim's work
    # folder comes and goes with its job, so folders are not counted here).
    BeforeEach { $script:before = Get-Footprint }
    AfterEach { Get-Footprint | Should -Be $before -Because 'a refused request writes nothing' }

    It 'refuses <Case> with <Status> <ErrorId>' -ForEach @(
        @{ Case = 'no token'; Token = ''; Status = 401; ErrorId = 'TokenMissing' }
        @{ Case = 'a forged token'; Token = 'art_' + ('A' * 43); Status = 401; ErrorId = 'TokenInvalid' }
        @{ Case = 'an expired token'; Token = 'expired'; Status = 401; ErrorId = 'TokenExpired' }
        @{ Case = 'a revoked token'; Token = 'revoked'; Status = 401; ErrorId = 'TokenRevoked' }
    ) {
        $secret = switch ($Token) { 'expired' { $expiredToken } 'revoked' { $revokedToken } default { $Token } }
        # Waits on the clock, the event an expiry is: at most the second it was issued for.
        if ($Token -eq 'expired') { while ([DateTimeOffset]::UtcNow -le $expiredAt.AddMilliseconds(50)) { Start-Sleep -Milliseconds 50 } }
        $answer = Send-Api POST /api/v1/runs (New-FactsJson) $secret
        $answer.Status | Should -Be $Status
        $answer.ErrorId | Should -Be $ErrorId
    }

    It 'refuses a submission of <Case> with <Status> <ErrorId>' -ForEach @(
        @{ Case = 'a body naming a user'; Change = @{ user = 'alice@lab.org' }; Status = 400; ErrorId = 'InvalidSubmission' }
        @{ Case = 'a protected config key'; Change = @{ configFiles = @(@{ path = 'evil.toml'; toml = "[workflow]`naccess_level = `"full`"`n" }) }; Status = 403; ErrorId = 'ProtectedConfigKey' }
        @{ Case = 'a look-alike repository'; Change = @{ repositoryUrl = 'https://github.com/populationgenomics/analysis-runner-evil' }; Status = 403; ErrorId = 'RepositoryNotAllowed' }
        @{ Case = 'a short commit'; Change = @{ commit = 'SHORT' }; Status = 400; ErrorId = 'FullCommitRequired' }
        @{ Case = 'a branch for a commit'; Change = @{ commit = 'main' }; Status = 400; ErrorId = 'FullCommitRequired' }
        @{ Case = 'an unknown commit'; Change = @{ commit = 'ab' * 20 }; Status = 404; ErrorId = 'CommitNotFound' }
        @{ Case = 'standard not on main'; Change = @{ accessLevel = 'standard'; commit = 'BRANCH'; script = 'branch.ps1'; scriptArguments = @() }; Status = 403; ErrorId = 'CommitNotOnMain' }
        @{ Case = 'an output dir outside the bucket'; Change = @{ outputDir = '../../cpg-othergenomes-main/x' }; Status = 400; ErrorId = 'InvalidOutputDir' }
        @{ Case = 'a dataset the user is not a member of'; Change = @{ dataset = 'othergenomes' }; Status = 403; ErrorId = 'NotAMember' }
    ) {
        if ($Change.commit -eq 'SHORT') { $Change.commit = $world.Commit.Substring(0, 7) }
        if ($Change.commit -eq 'BRANCH') { $Change.commit = $branchCommit }
        $answer = Send-Api POST /api/v1/runs (New-FactsJson $Change) $testerToken
        $answer.ErrorId | Should -Be $ErrorId -Because $answer.Text
        $answer.Status | Should -Be $Status
    }

    It 'refuses a body over the configured limit with 413 RequestBodyTooLarge' {
        $answer = Send-Api POST /api/v1/runs (New-FactsJson @{ description = 'x' * ($maxBody + 1) }) $testerToken
        $answer.Status | Should -Be 413
        $answer.ErrorId | Should -Be 'RequestBodyTooLarge'
    }

    It 'refuses malformed JSON with 400 InvalidSubmission' {
        $answer = Send-Api POST /api/v1/runs '{"dataset": "fewgenomes", ' $testerToken
        $answer.Status | Should -Be 400
        $answer.ErrorId | Should -Be 'InvalidSubmission'
    }

    It 'a token for dataset A can neither read nor cancel, resume or remove dataset B''s batch' {
        $id = $victim.DriverBatchId
        foreach ($request in @(
                @('GET', "/api/v1/batches/$id"), @('GET', "/api/v1/batches/$id/jobs/1/attempts"),
                @('GET', "/api/v1/batches/$id/jobs/1/attempts/1/stdout"), @('GET', "/api/v1/runs/$($victim.ArGuid)/config"),
                @('POST', "/api/v1/batches/$id/cancel"), @('POST', "/api/v1/runs/$($victim.ArGuid)/cancel"),
                @('POST', "/api/v1/batches/$id/resume"), @('DELETE', "/api/v1/batches/$id"))) {
            $answer = Send-Api $request[0] $request[1] -Token $aliceToken
            $answer.Status | Should -Be 403 -Because "$($request[0]) $($request[1]) answered $($answer.Text)"
            $answer.ErrorId | Should -Be 'NotADatasetMember'
        }
        (Send-Api POST /api/v1/batches/watch (@{ batchIds = @($id) } | ConvertTo-Json) $aliceToken).Status | Should -Be 403
        (Send-Api GET '/api/v1/runs?dataset=fewgenomes' -Token $aliceToken).ErrorId | Should -Be 'NotADatasetMember'
        (Send-Api GET '/api/v1/runs' -Token $aliceToken).Text | Should -Not -Match $victim.ArGuid
        (Send-Api GET '/api/v1/batches' -Token $aliceToken).Text | Should -Be '[]'

        $env:AR_TOKEN = $aliceToken
        $err = Get-ErrorOf { Stop-Batch -Server $uri -Id $id -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -BeLike 'NotADatasetMember,*'
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $env:AR_TOKEN = $null
        (Get-Batch -RunnerHome $world.Home -Id $id).CancelRequested | Should -BeFalse
    }

    It 'a colleague who may read a run may not cancel, resume or remove its batches (only its submitter or a full member)' {
        $id = $victim.DriverBatchId
        (Send-Api GET "/api/v1/batches/$id" -Token $doraToken).Status | Should -Be 200
        foreach ($request in @(@('POST', "/api/v1/batches/$id/cancel"), @('POST', "/api/v1/runs/$($victim.ArGuid)/cancel"),
                @('POST', "/api/v1/batches/$id/resume"), @('DELETE', "/api/v1/batches/$id"))) {
            $answer = Send-Api $request[0] $request[1] -Token $doraToken
            $answer.Status | Should -Be 403 -Because "$($request[0]) $($request[1]) answered $($answer.Text)"
            $answer.ErrorId | Should -Be 'NotTheRunsSubmitter'
            $answer.Text | Should -Match 'tester@example.org'
        }
        $env:AR_TOKEN = $doraToken
        $err = Get-ErrorOf { Stop-Batch -Server $uri -Run $victim -Confirm:$false }
        $env:AR_TOKEN = $null
        $err.FullyQualifiedErrorId | Should -BeLike 'NotTheRunsSubmitter,*'
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        (Get-Batch -RunnerHome $world.Home -Id $id).CancelRequested | Should -BeFalse
    }

    It 'Stop-Batch through the server cancels the member''s own run and waits for the cancel to be carried out' {
        $env:AR_TOKEN = $testerToken
        $stopped = @(Stop-Batch -Server $uri -Run $victim -PassThru -Confirm:$false)
        $env:AR_TOKEN = $null
        $stopped.Id | Should -Be @($victim.DriverBatchId)
        $stopped[0].State | Should -Be 'Cancelled'
    }
}

Describe 'Concurrent submissions through the server' -Tag Slow -Skip:(-not $hasPostgres) {
    It '100 submissions from 10 client processes at once are exactly 100 runs, configs and driver batches' {
        $before = Get-Footprint
        $pwsh = (Get-Process -Id $PID).Path
        $prefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        $clients = foreach ($n in 1..10) {
            $out = Join-Path $world.Root "burst-$n.txt"
            $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module AnalysisRunner
`$env:AR_TOKEN = '$testerToken'
foreach (`$i in 1..10) {
    (Submit-Analysis -Server '$uri' -Dataset fewgenomes -AccessLevel test -Description 'burst $n/`$i' -OutputDir 'onboarding/tester/burst' ``
        -Repository '$($world.Origin)' -Commit '$($world.Commit)' -SkipRepoCheckout 'true' 6>`$null).ArGuid
}
"@
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
            $process = Start-Process -FilePath $pwsh -ArgumentList (@($prefix) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) `
                -RedirectStandardOutput $out -RedirectStandardError "$out.err" -NoNewWindow -PassThru
            [pscustomobject]@{ Process = $process; Out = $out }
        }
        foreach ($client in $clients) { $client.Process.WaitForExit() }
        foreach ($client in $clients) {
            $client.Process.ExitCode | Should -Be 0 -Because (Get-Content -Raw "$($client.Out).err")
        }
        $arGuids = @($clients | ForEach-Object { Get-Content $_.Out } | Where-Object { $_ -match '^[0-9a-f-]{36}$' })
        $arGuids.Count | Should -Be 100
        @($arGuids | Sort-Object -Unique).Count | Should -Be 100
        $counts = [regex]::Matches($before, '\d+') | ForEach-Object { [int] $_.Value }
        Get-Footprint | Should -Be ('{0} configs, {1} runs, {2} batches' -f ($counts[0] + 100), ($counts[1] + 100), ($counts[2] + 100))
        $logged = @(Get-AnalysisLog -RunnerHome $world.Home | Where-Object Description -like 'burst *')
        $logged.Count | Should -Be 100
        @($logged | Where-Object { $_.ArGuid -notin $arGuids }).Count | Should -Be 0
        @(Get-Batch -RunnerHome $world.Home -First 100000 | Where-Object { $_.ArGuid -in $arGuids }).Count | Should -Be 100
    }
}
