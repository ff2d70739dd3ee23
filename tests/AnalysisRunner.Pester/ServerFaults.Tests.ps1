# AnalysisRunner.Server under faults (issue 15, "Load, faults"): PostgreSQL stopped (pg_ctl stop -m
# immediate) while client processes keep submitting, and the server killed with SIGKILL during a
# burst and started again on the same PostgreSQL and runner home. What must hold: every run a client
# was told succeeded is logged with one driver batch that runs; every refusal left nothing behind; a
# submission whose answer was lost (connection reset) is either absent or complete, never logged
# without a batch; the audit chain verifies. The clients are real Submit-Analysis processes driven over
# their stdin, so each phase starts and ends on their answers, not on a timer. Skipped, saying why,
# where PostgreSQL's server binaries are missing (.ci/run installs them). Tagged Slow: 15-65 s each on
# a loaded 2-core machine, so CI runs them (IncludeSlow), the quick default run does not.

BeforeDiscovery {
    $script:hasPostgres = @(Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue).Count -gt 0
}

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    $script:saved = @{ AR_HOME = $env:AR_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME; AR_SERVER = $env:AR_SERVER; AR_TOKEN = $env:AR_TOKEN }
    $env:AR_SERVER = $null; $env:AR_TOKEN = $null
    if (-not (Get-TestPostgresBin)) { return }

    $script:world = New-TestWorld
    $env:XDG_CONFIG_HOME = Join-Path $world.Root 'config'
    # The pwsh shim jobs run pwsh through is written by a client opening the home.
    Get-Batch -RunnerHome $world.Home | Out-Null
    $script:serverRoot = New-TestRoot
    $script:server = Start-TestServer -Root $serverRoot -RunnerHome $world.Home
    $script:token = New-TestServerToken $server -User tester@example.org
    # A deadline for anything a test waits on; never how long it waits when things work.
    $script:deadline = [TimeSpan]::FromSeconds(180)

    $script:http = [System.Net.Http.HttpClient]::new()
    function Get-Health {
        $response = $http.GetAsync("$($server.Uri.TrimEnd('/'))/healthz").GetAwaiter().GetResult()
        $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        [pscustomobject]@{ Status = [int] $response.StatusCode; ErrorId = if ($text.StartsWith('{')) { ($text | ConvertFrom-Json).errorId }; Text = $text }
    }

    function Invoke-ServerSql([string] $Sql) { Invoke-TestServerSql $server $Sql }

    function Stop-ServerPostgres {
        Invoke-AsPostgres "$($server.PgBin)/pg_ctl" @('-D', "$($server.Root)/pg", '-m', 'immediate', '-w', 'stop')
    }
    function Start-ServerPostgres {
        Invoke-AsPostgres "$($server.PgBin)/pg_ctl" @('-D', "$($server.Root)/pg", '-l', "$($server.Root)/pg.log", '-w', '-t', '120',
            '-o', "-p $($server.PgPort) -k $($server.Root) -c listen_addresses=127.0.0.1 -c fsync=off", 'start')
    }

    <# The same server binary and settings (PostgreSQL, runner home) in a new process, as an admin restarts it; a new port. #>
    function Restart-Server {
        $started = Start-TestServerProcess -Dll $server.Dll -Settings $server.Settings
        $script:server = [pscustomobject]@{
            Uri = $started.Uri; Process = $started.Process; Dll = $server.Dll; Settings = $server.Settings; Root = $server.Root; PgBin = $server.PgBin
            PgPort = $server.PgPort; PgPassword = $server.PgPassword; ConnectionString = $server.ConnectionString; Output = $started.Output; Errors = $started.Errors
        }
    }

    <#
     A client process that reads "COUNT TAG" lines on its stdin, submits COUNT runs one after another
     (descriptions "NAME TAG I"), answers each with one line ("ok ARGUID DESCRIPTION" or "err
     FULLYQUALIFIEDERRORID|MESSAGE|DESCRIPTION") and then "done".
    #>
    <#
     -RetrySeconds: how long the client waits out 503s (AR_SERVER_RETRY_SECONDS). 0 by default, since
     these tests are about the server's answers; one with a budget also answers "wait MESSAGE" for each
     503 it waits out (the cmdlet's verbose notice), before its "ok" or "err".
    #>
    function Start-Client([string] $Name, [int] $RetrySeconds = 0) {
        $pwsh = (Get-Process -Id $PID).Path
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module AnalysisRunner
`$env:AR_TOKEN = '$token'
`$env:AR_SERVER_RETRY_SECONDS = '$RetrySeconds'
[Console]::Out.WriteLine('ready')
while (`$null -ne (`$line = [Console]::In.ReadLine())) {
    `$count, `$tag = `$line -split ' ', 2
    foreach (`$i in 1..[int] `$count) {
        `$description = '$Name ' + `$tag + ' ' + `$i
        try {
            `$run = Submit-Analysis -Server `$env:AR_TEST_SERVER -Dataset fewgenomes -AccessLevel test -Description `$description ``
                -OutputDir 'onboarding/tester/faults' -Repository '$($world.Origin)' -Commit '$($world.Commit)' -SkipRepoCheckout 'true' -Verbose 6>`$null 4>&1 |
                ForEach-Object {
                    if (`$_ -isnot [System.Management.Automation.VerboseRecord]) { `$_ }
                    elseif (`$_.Message -like '*503*') { [Console]::Out.WriteLine('wait ' + `$_.Message) }
                }
            [Console]::Out.WriteLine("ok `$(`$run.ArGuid) `$description")
        } catch {
            [Console]::Out.WriteLine("err `$(`$_.FullyQualifiedErrorId)|`$(`$_.Exception.Message -replace '\s+', ' ')|`$description")
        }
    }
    [Console]::Out.WriteLine('done')
}
"@
        $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($argument in '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))) {
            $start.ArgumentList.Add($argument)
        }
        $start.RedirectStandardInput = $true; $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true
        $start.Environment['AR_TEST_SERVER'] = $server.Uri
        $process = [System.Diagnostics.Process]::Start($start)
        $client = [pscustomobject]@{ Name = $Name; Process = $process; Errors = $process.StandardError.ReadToEndAsync() }
        $ready = Read-ClientLine $client
        if ($ready -ne 'ready') { throw "client $Name did not start: $ready $($client.Errors.GetAwaiter().GetResult())" }
        $client
    }

    function Read-ClientLine($Client) {
        $read = $Client.Process.StandardOutput.ReadLineAsync()
        if (-not $read.Wait($deadline)) { throw "client $($Client.Name) said nothing within the deadline" }
        if ($null -eq $read.Result) { throw "client $($Client.Name) exited: $($Client.Errors.GetAwaiter().GetResult())" }
        $read.Result
    }

    function Send-Burst($Clients, [int] $Count, [string] $Tag) {
        foreach ($client in $Clients) { $client.Process.StandardInput.WriteLine("$Count $Tag"); $client.Process.StandardInput.Flush() }
    }

    <# The client's answers, up to -First of them or its "done". #>
    function Read-Answers($Client, [int] $First = [int]::MaxValue) {
        $answers = [System.Collections.Generic.List[object]]::new()
        while ($answers.Count -lt $First -and ($line = Read-ClientLine $Client) -ne 'done') {
            if ($line -match '^ok (\S+) (.+)$') {
                $answers.Add([pscustomobject]@{ Ok = $true; ArGuid = $Matches[1]; Description = $Matches[2]; ErrorId = $null; FullId = $null; Message = $null })
            } elseif ($line -match '^err ([^|]*)\|(.*)\|([^|]+)$') {
                $answers.Add([pscustomobject]@{ Ok = $false; ArGuid = $null; Description = $Matches[3]; FullId = $Matches[1]
                    ErrorId = ($Matches[1] -split ',')[0]; Message = $Matches[2] })
            } else { throw "client $($Client.Name) answered '$line'" }
        }
        $answers
    }

    function Stop-Clients($Clients) {
        foreach ($client in $Clients) {
            $client.Process.StandardInput.Close()
            if (-not $client.Process.WaitForExit([int] $deadline.TotalMilliseconds)) { $client.Process.Kill() }
        }
    }

    <#
     Every run PostgreSQL holds: its description, whether its config and dispatch rows exist, and the
     driver batch recorded on it (0 while none).
    #>
    function Get-LoggedRuns {
        Invoke-ServerSql @'
SELECT a.ar_guid, a.entry::json->>'description', c.ar_guid IS NOT NULL, d.ar_guid IS NOT NULL, coalesce(d.driver_batch_id, 0)
FROM audit_log a LEFT JOIN run_configs c USING (ar_guid) LEFT JOIN run_dispatch d USING (ar_guid) ORDER BY a.id
'@ | ForEach-Object {
            $column = $_ -split '\|'
            [pscustomobject]@{ ArGuid = $column[0]; Description = $column[1]; HasConfig = $column[2] -eq 't'; HasDispatch = $column[3] -eq 't'; DriverBatchId = [long] $column[4] }
        }
    }

    <#
     A run logged just before PostgreSQL went away may have its batch but not yet its id on the run:
     the server's retry (RunDispatchRetry, backing off up to 30 s) records it once PostgreSQL is back.
     Waits, up to the deadline, until no logged run is still waiting for that.
    #>
    function Wait-DispatchesRecorded {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ([int] (Invoke-ServerSql 'SELECT count(*) FROM run_dispatch WHERE driver_batch_id IS NULL AND cancelled_at IS NULL' | Select-Object -First 1) -gt 0) {
            if ($clock.Elapsed -gt $deadline) { throw "Logged runs still had no driver batch recorded after $deadline." }
            Start-Sleep -Milliseconds 250
        }
    }

    <# The chain as PostgreSQL holds it, verified by the same code Test-AnalysisLog runs. #>
    function Test-ServerChain {
        $database = [AnalysisRunner.Core.Postgres.PostgresDatabase]::new($server.ConnectionString)
        try {
            $chain = [AnalysisRunner.Core.Log.PostgresRunLog]::new($database, $null).ReadChainAsync([Threading.CancellationToken]::None)
            $blocking = [System.Threading.Tasks.TaskAsyncEnumerableExtensions].GetMethod('ToBlockingEnumerable').MakeGenericMethod([AnalysisRunner.Core.Runs.RunRecord])
            [AnalysisRunner.Core.Log.AuditChain]::Verify($blocking.Invoke($null, @($chain, [Threading.CancellationToken]::None)))
        } finally { $database.DisposeAsync().AsTask().GetAwaiter().GetResult() }
    }

    <#
     What every fault must leave: each run a client was told succeeded is logged; each logged run has
     its config, and exactly one driver batch in the runner home (recorded on it) that runs to
     Succeeded; each run a client was refused with a server's ErrorId is not logged, unless listed in
     -MayBeLogged (answers that may have come after the commit was lost). Returns the logged runs.
    #>
    function Assert-NothingHalfWritten($Answers, [string[]] $MayBeLogged = @()) {
        $logged = @(Get-LoggedRuns)
        $byDescription = @{}
        foreach ($run in $logged) {
            $byDescription.ContainsKey($run.Description) | Should -BeFalse -Because "$($run.Description) is logged once"
            $byDescription[$run.Description] = $run
        }
        foreach ($answer in $Answers | Where-Object Ok) {
            $byDescription[$answer.Description].ArGuid | Should -Be $answer.ArGuid -Because "$($answer.Description) was acknowledged"
        }
        foreach ($answer in $Answers | Where-Object { -not $_.Ok -and $_.Description -notin $MayBeLogged }) {
            $byDescription.ContainsKey($answer.Description) | Should -BeFalse -Because "$($answer.Description) was refused ($($answer.FullId))"
        }
        $batches = @(Get-Batch -RunnerHome $world.Home -First 100000)
        $configs = Join-Path $world.Home 'configs'
        foreach ($run in $logged) {
            $run.HasConfig | Should -BeTrue -Because "$($run.Description) is logged"
            $run.HasDispatch | Should -BeTrue -Because "$($run.Description) is logged"
            $ofRun = @($batches | Where-Object ArGuid -eq $run.ArGuid)
            $ofRun.Count | Should -Be 1 -Because "$($run.Description) is logged, so it has one driver batch"
            $run.DriverBatchId | Should -Be $ofRun[0].Id
            Test-Path (Join-Path $configs "$($run.ArGuid).toml") | Should -BeTrue -Because "$($run.Description)'s config is published for its driver"
        }
        @($batches | Where-Object { $_.ArGuid -notin $logged.ArGuid }).Count | Should -Be 0 -Because 'no batch is of a run that is not logged'
        $finished = @(if ($batches) { Wait-Batch -RunnerHome $world.Home -Id $batches.Id -Timeout ([int] $deadline.TotalSeconds) })
        @($finished | Where-Object State -ne 'Succeeded' | ForEach-Object { "$($_.Id) $($_.State)" }) | Should -Be @()
        (Test-ServerChain).Valid | Should -BeTrue
        $logged
    }
}

AfterAll {
    if ($script:http) { $http.Dispose() }
    Stop-TestServer $script:server
    if ($script:world) { Remove-TestWorld $world }
    foreach ($name in $saved.Keys) { Set-Item "env:$name" $saved[$name] }
    if ($script:serverRoot -and (Test-Path $serverRoot)) { Remove-Item -Recurse -Force $serverRoot }
}

Describe 'The server with PostgreSQL stopped mid-burst' -Tag Slow -Skip:(-not $hasPostgres) {
    It 'answers 503 DatabaseUnavailable while PostgreSQL is down, loses nothing it acknowledged, and recovers by itself' {
        $clients = @(1..3 | ForEach-Object { Start-Client "pg$_" })
        try {
            Send-Burst $clients 2 before
            $before = @($clients | ForEach-Object { Read-Answers $_ })
            @($before | Where-Object { -not $_.Ok } | ForEach-Object FullId) | Should -Be @()

            # Stopped once every client has an answer of this burst, so the stop lands among submissions.
            Send-Burst $clients 5 during
            $during = @($clients | ForEach-Object { Read-Answers $_ -First 1 })
            Stop-ServerPostgres
            $during += @($clients | ForEach-Object { Read-Answers $_ })

            Send-Burst $clients 2 down
            $down = @($clients | ForEach-Object { Read-Answers $_ })
            $down | ForEach-Object { $_.FullId | Should -BeLike 'DatabaseUnavailable,*' -Because $_.Message }
            $down[0].Message | Should -Match 'PostgreSQL, the server''s database, is not reachable'
            $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::Post, "$($server.Uri.TrimEnd('/'))/api/v1/runs")
            $request.Headers.Authorization = [System.Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $token)
            $request.Content = [System.Net.Http.StringContent]::new('{"dataset": "fewgenomes"}', [Text.Encoding]::UTF8, 'application/json')
            $response = $http.SendAsync($request).GetAwaiter().GetResult()
            [int] $response.StatusCode | Should -Be 503
            ($response.Content.ReadAsStringAsync().GetAwaiter().GetResult() | ConvertFrom-Json).errorId | Should -Be 'DatabaseUnavailable'
            $health = Get-Health
            $health.Status | Should -Be 503
            $health.ErrorId | Should -Be 'DatabaseUnavailable'
            # The refusals mid-burst are the same 503, or an answer that came before the stop.
            @($during | Where-Object { -not $_.Ok -and $_.FullId -notlike 'DatabaseUnavailable,*' } | ForEach-Object FullId) | Should -Be @()

            Start-ServerPostgres
            (Get-Health).Status | Should -Be 200
            Send-Burst $clients 2 after
            $after = @($clients | ForEach-Object { Read-Answers $_ })
            @($after | Where-Object { -not $_.Ok } | ForEach-Object { "$($_.FullId) $($_.Message)" }) | Should -Be @()

            # A restart no request saw: the server's pooled connections died with it, and still the next submissions succeed.
            Stop-ServerPostgres
            Start-ServerPostgres
            Send-Burst $clients 1 unseen
            $unseen = @($clients | ForEach-Object { Read-Answers $_ })
            @($unseen | Where-Object { -not $_.Ok } | ForEach-Object { "$($_.FullId) $($_.Message)" }) | Should -Be @()
        } finally { Stop-Clients $clients }

        $answers = $before + $during + $down + $after + $unseen
        # A 503 whose COMMIT had reached PostgreSQL before it went is logged and complete, which the
        # client cannot tell from a refusal; only a mid-burst refusal can be one.
        $mayBeLogged = @($during | Where-Object { -not $_.Ok } | ForEach-Object Description)
        Wait-DispatchesRecorded
        $logged = Assert-NothingHalfWritten $answers -MayBeLogged $mayBeLogged
        $acknowledged = @($answers | Where-Object Ok).Count
        $acknowledged | Should -BeGreaterOrEqual 12
        Write-Host "PostgreSQL stopped mid-burst: $acknowledged acknowledged, $(@($answers | Where-Object { -not $_.Ok }).Count) refused, $($logged.Count) logged"
    }
}

Describe 'A client while PostgreSQL is down' -Tag Slow -Skip:(-not $hasPostgres) {
    It 'waits out the 503s, saying why, and its submission is logged once when PostgreSQL is back' {
        $before = @(Get-LoggedRuns)
        $client = Start-Client 'patient' -RetrySeconds 600
        try {
            Stop-ServerPostgres
            Send-Burst @($client) 1 waited
            # The client said it waits (its first 503): only then does PostgreSQL come back.
            $first = Read-ClientLine $client
            $first | Should -BeLike 'wait *503 DatabaseUnavailable*trying again in*'
            Start-ServerPostgres
            while (($line = Read-ClientLine $client) -like 'wait *') { }
            $line | Should -Match '^ok (\S+) patient waited 1$'
            $arGuid = ($line -split ' ')[1]
            Read-ClientLine $client | Should -Be 'done'
        } finally { Stop-Clients @($client) }

        Wait-DispatchesRecorded
        $new = @(Get-LoggedRuns | Where-Object ArGuid -notin $before.ArGuid)
        $new.ArGuid | Should -Be @($arGuid)
        Assert-NothingHalfWritten @([pscustomobject]@{ Ok = $true; ArGuid = $arGuid; Description = 'patient waited 1' }) | Out-Null
    }
}

Describe 'The server killed with SIGKILL during a burst and started again' -Tag Slow -Skip:(-not $hasPostgres) {
    It 'keeps every run it acknowledged, and every logged run has one driver batch that runs; refused ones left nothing' {
        $before = @(Get-LoggedRuns)
        $clients = @(1..4 | ForEach-Object { Start-Client "kill$_" })
        try {
            Send-Burst $clients 8 burst
            # Killed once every client has two answers: submissions are in flight in each.
            $answers = @($clients | ForEach-Object { Read-Answers $_ -First 2 })
            $server.Process.Kill()
            $server.Process.WaitForExit()
            $answers += @($clients | ForEach-Object { Read-Answers $_ })
        } finally { Stop-Clients $clients }
        Restart-Server

        # No answer (the connection reset or refused) may be logged, and then must be complete; an
        # answer from the server (a problem detail) that refused is not.
        $unanswered = @($answers | Where-Object { -not $_.Ok -and $_.ErrorId -eq 'ServerUnreachable' } | ForEach-Object Description)
        $logged = Assert-NothingHalfWritten $answers -MayBeLogged $unanswered
        @($answers | Where-Object Ok).Count | Should -BeGreaterOrEqual 8
        $new = @($logged | Where-Object ArGuid -notin $before.ArGuid)
        Write-Host ("Server killed mid-burst: {0} acknowledged, {1} without an answer ({2} of them logged), {3} refused by the server" -f `
            @($answers | Where-Object Ok).Count, $unanswered.Count, @($new | Where-Object Description -in $unanswered).Count,
            @($answers | Where-Object { -not $_.Ok -and $_.ErrorId -ne 'ServerUnreachable' }).Count)
        (Get-Health).Status | Should -Be 200
    }
}
