# Shared set-up for the Pester suites: a throwaway runner home, and a git checkout of the project's
# examples whose origin is a local bare repository, allowlisted for dataset fewgenomes.

$script:ExamplesDir = Join-Path $PSScriptRoot '../../examples' | Resolve-Path | Select-Object -ExpandProperty Path
$script:RepoRoot = Join-Path $PSScriptRoot '../..' | Resolve-Path | Select-Object -ExpandProperty Path

function Invoke-Git {
    $output = git @args 2>&1
    if ($LASTEXITCODE) { throw "git $args failed: $output" }
    $output
}

function New-TestRoot {
    $root = Join-Path ([IO.Path]::GetTempPath()) ("ar-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 10))
    New-Item -ItemType Directory $root | Out-Null
    $root
}

<#
 The examples committed once per pwsh, as a bare origin.git and a checkout pushing to it; each test
 world copies it. Building a world from scratch (nine git processes and a recursive copy) was most
 of what a test world cost, and the suites make about fifty. The template outlives a re-import of
 this module (each test file imports it again) and is removed when this pwsh exits.
#>
function Get-TestWorldTemplate {
    if ($script:WorldTemplate) { return $script:WorldTemplate }
    # A re-import finds the template this pwsh made through the environment, which describes it.
    if ($env:AR_TEST_WORLD_TEMPLATE) {
        $known = $env:AR_TEST_WORLD_TEMPLATE | ConvertFrom-Json
        if (Test-Path (Join-Path $known.Root 'checkout/.git')) { return ($script:WorldTemplate = $known) }
    }
    $root = New-TestRoot
    $origin = Join-Path $root 'origin.git'
    $checkout = Join-Path $root 'checkout'
    $email = 'tester@example.org'
    Invoke-Git init -q --bare -b main $origin | Out-Null
    Invoke-Git init -q -b main $checkout | Out-Null
    New-Item -ItemType Directory (Join-Path $checkout 'examples') | Out-Null
    foreach ($folder in 'bash', 'powershell', 'batch') {
        Copy-Item -Recurse (Join-Path $script:ExamplesDir $folder) (Join-Path $checkout 'examples')
    }
    Invoke-Git -C $checkout config user.email $email | Out-Null
    Invoke-Git -C $checkout config user.name 'Pester' | Out-Null
    Invoke-Git -C $checkout remote add origin $origin | Out-Null
    Invoke-Git -C $checkout add -A | Out-Null
    Invoke-Git -C $checkout commit -q -m 'examples' | Out-Null
    Invoke-Git -C $checkout push -q origin main | Out-Null
    $template = [pscustomobject]@{ Root = $root; Origin = $origin; Email = $email; Commit = (Invoke-Git -C $checkout rev-parse HEAD).Trim() }
    $env:AR_TEST_WORLD_TEMPLATE = $template | ConvertTo-Json -Compress
    # Made from text so it is not bound to this module, whose scope has no $Event when pwsh exits.
    Register-EngineEvent -SourceIdentifier PowerShell.Exiting -Action ([scriptblock]::Create(
            "Remove-Item -Recurse -Force -LiteralPath '$root' -ErrorAction SilentlyContinue")) | Out-Null
    $script:WorldTemplate = $template
    $template
}

<#
 Creates <root>/origin.git (bare) and <root>/checkout (examples/ committed and pushed to main),
 a runner home at <root>/home whose registry allowlists the origin for fewgenomes and whose
 settings map this OS account to $Email (who the caller is on the embedded default), and sets
 $env:AR_HOME. Returns a hashtable of the paths and the user's email.
#>
function New-TestWorld {
    param(
        [string] $Email = 'tester@example.org',
        [string[]] $TestMembers = @('tester@example.org'),
        [string[]] $StandardMembers = @('tester@example.org'),
        [string[]] $FullMembers = @('tester@example.org'),
        [string[]] $ExtraRepositories = @()
    )
    $template = Get-TestWorldTemplate
    $root = New-TestRoot
    # cp -a keeps the repositories' modes and times; only the checkout's origin URL names the template.
    & cp -a (Join-Path $template.Root '.') $root
    if ($LASTEXITCODE) { throw "Copying the test world template $($template.Root) to $root failed." }
    $origin = Join-Path $root 'origin.git'
    $checkout = Join-Path $root 'checkout'
    $gitConfig = Join-Path $checkout '.git/config'
    [IO.File]::WriteAllText($gitConfig, [IO.File]::ReadAllText($gitConfig).Replace($template.Origin, $origin))
    if ($Email -ne $template.Email) { Invoke-Git -C $checkout config user.email $Email | Out-Null }

    $home_ = Join-Path $root 'home'
    New-Item -ItemType Directory $home_ | Out-Null
    $env:AR_HOME = $home_
    # One executor serves the world's tests, however far apart its submissions (an idle one exiting after
    # a few seconds meant starting another, and its CPU, for most of them); Remove-TestWorld stops it.
    $env:AR_EXECUTOR_IDLE_SECONDS = '120'
    $world = @{
        Root = $root; Origin = $origin; Checkout = $checkout; Home = $home_; Email = $Email
        Commit = $template.Commit
        StorageSettings = ''
    }
    Write-TestSettings $world
    Set-TestRegistry -World $world -TestMembers $TestMembers -StandardMembers $StandardMembers -FullMembers $FullMembers `
        -Repositories (@($origin) + $ExtraRepositories)
    $world
}

function ConvertTo-TomlString([string] $Value) {
    '"' + ($Value -replace '\\', '\\' -replace '"', '\"') + '"'
}

function ConvertTo-TomlArray([string[]] $Values) {
    '[' + (($Values | ForEach-Object { ConvertTo-TomlString $_ }) -join ', ') + ']'
}

<# settings.toml: this OS account is $World.Email, plus whatever storage backend the test chose. #>
function Write-TestSettings {
    param($World)
    Set-Content (Join-Path $World.Home 'settings.toml') @"
$($World.StorageSettings)

[identity.users]
$(ConvertTo-TomlString ([Environment]::UserName)) = $(ConvertTo-TomlString $World.Email)
"@
}

<# Who this OS account is from now on, as the runner settings map it. #>
function Set-TestIdentity {
    param($World, [string] $Email)
    $World.Email = $Email
    Write-TestSettings $World
}

function Set-TestRegistry {
    param($World, [string[]] $TestMembers = @(), [string[]] $StandardMembers = @(), [string[]] $FullMembers = @(),
        [string[]] $Repositories = @(), [string[]] $ImagePrefixes = @('registry.example.org/approved/'),
        [string[]] $OtherTestMembers = @(), [string] $Extra = '')
    Set-Content (Join-Path $World.Home 'registry.toml') @"
default_image = "registry.example.org/approved/driver:latest"
image_prefixes = $(ConvertTo-TomlArray $ImagePrefixes)

[datasets.fewgenomes]
repositories = $(ConvertTo-TomlArray $Repositories)
$Extra

[datasets.fewgenomes.members]
test = $(ConvertTo-TomlArray $TestMembers)
standard = $(ConvertTo-TomlArray $StandardMembers)
full = $(ConvertTo-TomlArray $FullMembers)

[datasets.othergenomes]
repositories = $(ConvertTo-TomlArray $Repositories)

[datasets.othergenomes.members]
test = $(ConvertTo-TomlArray $OtherTestMembers)
"@
}

<#
 Starts the project's GCS test server (tests/AnalysisRunner.GcsTestServer) on 127.0.0.1 and a free
 port; returns its Endpoint (the JSON API base) and Process. build.ps1 -Task Test builds it and names
 the dll in $env:AR_TEST_GCS_SERVER; a Pester file run on its own builds it into artifacts/ first.
 The server lives until its standard input closes: Stop-TestGcsServer, or this pwsh ending.
#>
function Start-TestGcsServer {
    $dll = if ($env:AR_TEST_GCS_SERVER) { $env:AR_TEST_GCS_SERVER } else { Join-Path $script:RepoRoot 'artifacts/gcs-test-server/AnalysisRunner.GcsTestServer.dll' }
    $dotnet = if ((Split-Path ([Environment]::ProcessPath) -Leaf) -like 'dotnet*') { [Environment]::ProcessPath } else { 'dotnet' }
    if (-not (Test-Path $dll)) {
        $built = & $dotnet build (Join-Path $script:RepoRoot 'tests/AnalysisRunner.GcsTestServer') -c Release -o (Split-Path $dll) -nologo -v quiet 2>&1
        if ($LASTEXITCODE) { throw "Building the GCS test server failed: $built" }
    }
    $start = [System.Diagnostics.ProcessStartInfo]::new($dotnet)
    $start.ArgumentList.Add($dll)
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $firstLine = $process.StandardOutput.ReadLineAsync()
    if (-not $firstLine.Wait([TimeSpan]::FromSeconds(60)) -or $firstLine.Result -notmatch 'listening on (\S+)') {
        $process.Kill()
        throw "The GCS test server did not start: '$(if ($firstLine.IsCompleted) { $firstLine.Result })'"
    }
    [pscustomobject]@{ Endpoint = $Matches[1]; Process = $process }
}

function Stop-TestGcsServer {
    param($Server)
    if (-not $Server) { return }
    $Server.Process.StandardInput.Close()
    if (-not $Server.Process.WaitForExit(10000)) { $Server.Process.Kill() }
    $Server.Process.Dispose()
}

<# Points the world's runner home at a GCS server; extra TOML (e.g. key files) goes after [storage]. #>
function Set-TestGcsBackend {
    param($World, [string] $Endpoint, [string] $Extra = '')
    $World.StorageSettings = @"
[storage]
backend = "gcs"
endpoint = "$Endpoint"
unauthenticated = true
$Extra
"@
    Write-TestSettings $World
}

<# Commits a file in the checkout (on main, pushed unless -NoPush) and returns the new sha. #>
function Add-TestCommit {
    param($World, [string] $Path, [string] $Content, [switch] $NoPush, [switch] $Executable)
    $full = Join-Path $World.Checkout $Path
    New-Item -ItemType Directory -Force (Split-Path $full) | Out-Null
    Set-Content -Path $full -Value $Content -NoNewline
    if ($Executable) { chmod +x $full }
    Invoke-Git -C $World.Checkout add -A | Out-Null
    Invoke-Git -C $World.Checkout commit -q -m "add $Path" | Out-Null
    if (-not $NoPush) { Invoke-Git -C $World.Checkout push -q origin HEAD | Out-Null }
    (Invoke-Git -C $World.Checkout rev-parse HEAD).Trim()
}

<# Everything a refused submission must not have left behind. #>
function Get-TestFootprint {
    param($World)
    $configs = Join-Path $World.Home 'configs'
    $work = Join-Path $World.Home 'work'
    [pscustomobject]@{
        Configs = @(if (Test-Path $configs) { Get-ChildItem -Force $configs }).Count
        LogRows = @(Get-AnalysisLog).Count
        Batches = @(Get-Batch).Count
        WorkFolders = @(if (Test-Path $work) { Get-ChildItem -Force $work }).Count
    }
}

<# Runs a command in a fresh pwsh (this module on its PSModulePath), optionally typing $InputText at its prompts. #>
function Invoke-TestPwsh {
    param([string] $Command, [string] $InputText, [switch] $NonInteractive)
    $pwsh = (Get-Process -Id $PID).Path
    $prefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
    $flags = @('-NoProfile') + @(if ($NonInteractive) { '-NonInteractive' })
    $output = if ($PSBoundParameters.ContainsKey('InputText')) {
        $InputText | & $pwsh @prefix @flags -Command $Command 2>&1
    } else {
        & $pwsh @prefix @flags -Command $Command 2>&1
    }
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($output | ForEach-Object { "$_" }) }
}

<# Changes one audit row behind the runner's back, as someone with the database file could. #>
function Set-TestAuditRow {
    param($World, [string] $ArGuid, [string] $Column, [string] $Value)
    $connection = [Microsoft.Data.Sqlite.SqliteConnection]::new("Data Source=$(Join-Path $World.Home 'runner.db');Pooling=False")
    $connection.Open()
    try {
        $command = $connection.CreateCommand()
        $command.CommandText = "UPDATE audit_log SET $Column = `$value WHERE ar_guid = `$guid"
        $command.Parameters.AddWithValue('$value', $Value) | Out-Null
        $command.Parameters.AddWithValue('$guid', $ArGuid) | Out-Null
        $command.ExecuteNonQuery()
    } finally { $connection.Dispose() }
}

function Stop-TestExecutor {
    param($World)
    if (-not $World) { return }
    try {
        [AnalysisRunner.Core.Batch.ExecutorClient]::new([AnalysisRunner.Core.Hosting.RunnerHome]::new($World.Home)).Stop()
    } catch { }
}

function Remove-TestWorld {
    param($World)
    if (-not $World) { return }
    Stop-TestExecutor $World
    Remove-Item -Recurse -Force $World.Root -ErrorAction SilentlyContinue
    Remove-Item Env:AR_HOME -ErrorAction SilentlyContinue
}

<# The newest PostgreSQL server binaries on this machine (.ci/run installs them), or $null: tests that need them skip, saying why. #>
function Get-TestPostgresBin {
    $initdb = @(Get-ChildItem /usr/lib/postgresql/*/bin/initdb -ErrorAction SilentlyContinue | Sort-Object FullName -Descending)
    if ($initdb.Count) { $initdb[0].Directory.FullName }
}

function Invoke-AsPostgres([string] $File, [string[]] $Arguments) {
    $output = if ((id -u) -eq '0') { & runuser -u postgres -- $File @Arguments 2>&1 } else { & $File @Arguments 2>&1 }
    if ($LASTEXITCODE) { throw "$File failed: $output" }
}

<#
 A live AnalysisRunner.Server as an admin would run it: a throwaway PostgreSQL cluster under $Root
 (initdb and pg_ctl as the postgres user, socket in $Root), a settings file, and the server on a free
 127.0.0.1 port, reading -RunnerHome when given. Returns Uri, Process, Dll, Settings, Root and PgBin.
#>
function Start-TestServer {
    # -RunsInHome: the server shows the home's own runs (users submit in-process), not PostgreSQL's.
    # -DatabaseTrustsEveryone: the cluster asks for no password, which the server refuses to start over.
    param([string] $Root, [string] $RunnerHome, [long] $MaxRequestBodyBytes = 0, [switch] $RunsInHome, [switch] $DatabaseTrustsEveryone)
    $pgBin = Get-TestPostgresBin
    if ((id -u) -eq '0') { & chown postgres:postgres $Root }
    # A password, as the server demands of its database (it refuses one that trusts every local user).
    $pgPassword = [guid]::NewGuid().ToString('N')
    $authentication = @('-A', 'trust')
    if (-not $DatabaseTrustsEveryone) {
        Set-Content -NoNewline -Path "$Root/pg-password" -Value $pgPassword
        if ((id -u) -eq '0') { & chown postgres:postgres "$Root/pg-password" }
        $authentication = @('-A', 'scram-sha-256', '--pwfile', "$Root/pg-password")
    }
    Invoke-AsPostgres "$pgBin/initdb" (@('-D', "$Root/pg") + $authentication + @('-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync'))
    # Another process (a parallel suite's cluster) may take the port between the probe and the bind: try a few, as PostgresCluster does.
    for ($attempt = 1; ; $attempt++) {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $pgPort = $probe.LocalEndpoint.Port; $probe.Stop()
        try {
            Invoke-AsPostgres "$pgBin/pg_ctl" @('-D', "$Root/pg", '-l', "$Root/pg.log", '-w', '-o', "-p $pgPort -k $Root -c listen_addresses=127.0.0.1 -c fsync=off", 'start')
            break
        }
        catch {
            $log = if (Test-Path "$Root/pg.log") { Get-Content -Raw "$Root/pg.log" } else { '' }
            if ($attempt -lt 5 -and $log -match 'Address already in use') { continue }
            throw "$($_.Exception.Message)`nPostgreSQL's log:`n$log"
        }
    }
    $settings = Join-Path $Root 'server.toml'
    $text = "[server]`nurls = `"http://127.0.0.1:0`"`n"
    if ($MaxRequestBodyBytes) { $text += "max_request_body_bytes = $MaxRequestBodyBytes`n" }
    $connectionString = "Host=127.0.0.1;Port=$pgPort;Username=postgres;Password=$pgPassword;Database=postgres"
    $text += "[database]`nconnection_string = `"$connectionString`"`n"
    # The module this build made (as build.ps1 -Task Serve passes it): drivers the server runs import it.
    if ($RunnerHome) { $text += "[runner]`nhome = $(ConvertTo-TomlString $RunnerHome)`nmodule = $(ConvertTo-TomlString (Join-Path $script:RepoRoot 'artifacts/module/AnalysisRunner'))`n" }
    if ($RunsInHome) { $text += "runs = `"home`"`n" }
    Set-Content $settings $text

    # Built by the Test task's xunit step; built here otherwise.
    $serverProject = Join-Path $script:RepoRoot 'src/AnalysisRunner.Server'
    $dll = Join-Path $serverProject 'bin/Release/net10.0/AnalysisRunner.Server.dll'
    if (-not (Test-Path $dll)) { & dotnet build $serverProject -c Release -nologo -v quiet | Out-Null }
    try { $started = Start-TestServerProcess -Dll $dll -Settings $settings }
    catch {
        # Nothing left running when the server would not start.
        Invoke-AsPostgres "$pgBin/pg_ctl" @('-D', "$Root/pg", '-m', 'fast', '-w', 'stop')
        throw
    }
    [pscustomobject]@{
        Uri = $started.Uri; Process = $started.Process; Dll = $dll; Settings = $settings; Root = $Root; PgBin = $pgBin; PgPort = $pgPort
        PgPassword = $pgPassword; ConnectionString = $connectionString; Output = $started.Output; Errors = $started.Errors
    }
}

<#
 The server binary $Dll with the settings file $Settings in a new process, as an admin starts (or
 restarts) it; returns once it listens: Uri, Process, and its Output and Errors (read to the end in
 the background, so a chatty server never blocks on a full pipe, and kept, so a failing test can show them).
#>
function Start-TestServerProcess {
    param([string] $Dll, [string] $Settings)
    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    # Every request's start and end in its log, so a test that waited in vain can tell whether the request came (Show-TestServerState).
    foreach ($argument in @($Dll, '--settings', $Settings, '--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information')) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true; $start.RedirectStandardInput = $true
    $process = [System.Diagnostics.Process]::Start($start)
    $uri = $null
    while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
        if ($line -match 'listening on (http://\S+)') { $uri = $Matches[1]; break }
    }
    if (-not $uri) { throw "the server did not start: $($process.StandardError.ReadToEnd())" }
    [pscustomobject]@{ Uri = $uri; Process = $process; Output = $process.StandardOutput.ReadToEndAsync(); Errors = $process.StandardError.ReadToEndAsync() }
}

<#
 What a test that waited in vain on the server prints before it fails: the server's managed stacks now
 (dotnet-stack, a local tool of this repository); Stop-TestServer then also prints the last requests it
 logged (its log is complete only once it has stopped, and the server stays up for the tests after).
#>
function Show-TestServerState {
    param($Server)
    if (-not $Server -or $Server.Process.HasExited) { return }
    Write-Host "The server's managed stacks while the test waited:"
    Push-Location $script:RepoRoot
    try { & dotnet dotnet-stack report -p $Server.Process.Id 2>&1 | Out-Host } finally { Pop-Location }
    $Server | Add-Member -NotePropertyName ShowRequests -NotePropertyValue $true -Force
}

<# Ages every token of $User past its expiry in the server's database, as time would (issuing one already expired is refused). #>
<# The test server's database, as psql answers one query (rows of |-separated columns). #>
function Invoke-TestServerSql {
    param($Server, [string] $Sql)
    $env:PGPASSWORD = $Server.PgPassword
    try {
        $output = & "$($Server.PgBin)/psql" -h 127.0.0.1 -p $Server.PgPort -U postgres -d postgres -v ON_ERROR_STOP=1 -At -c $Sql 2>&1
    }
    finally { Remove-Item Env:PGPASSWORD -ErrorAction SilentlyContinue }
    if ($LASTEXITCODE) { throw "psql failed: $output" }
    @($output)
}

<# A token issued on the server machine by its admin command (no token needed); returns the secret. #>
function New-TestServerToken {
    param($Server, [string] $User, [switch] $Admin, [string] $Expires, [string] $ExpiresIn)
    $arguments = @($Server.Dll, 'token', 'issue', '--user', $User, '--settings', $Server.Settings) +
        @(if ($Admin) { '--admin' }) + @(if ($Expires) { '--expires', $Expires }) + @(if ($ExpiresIn) { '--expires-in', $ExpiresIn })
    $issued = & dotnet @arguments 2>&1
    if ($LASTEXITCODE) { throw "token issue failed: $issued" }
    (($issued | Where-Object { $_ -like 'token *' }) -split '\s+')[1]
}

function Stop-TestServer {
    param($Server)
    if (-not $Server) { return }
    if (-not $Server.Process.HasExited) { $Server.Process.Kill(); $Server.Process.WaitForExit() }
    # A request the server failed (500) says why only in its log: shown here, so a failing test's cause is in the test output.
    $log = @($Server.Output, $Server.Errors) | Where-Object { $_ } | ForEach-Object { $_.GetAwaiter().GetResult() }
    $failures = @($log -split "`n" | Select-String -Context 0, 12 -Pattern '^fail:|Unhandled exception')
    if ($failures) { Write-Host "The server's log had failures:`n$($failures -join "`n")" }
    if ($Server.PSObject.Properties['ShowRequests']) {
        $requests = @($log -split "`n" | Where-Object { $_ -match 'Request (starting|finished)' })
        Write-Host "The last requests the server logged:`n$(($requests | Select-Object -Last 40) -join "`n")"
    }
    if (Test-Path "$($Server.Root)/pg/postmaster.pid") { Invoke-AsPostgres "$($Server.PgBin)/pg_ctl" @('-D', "$($Server.Root)/pg", '-m', 'fast', '-w', 'stop') }
}

<#
 The embedded web (AnalysisRunner.Server embedded) over -RunnerHome on a free 127.0.0.1 port, as
 build.ps1 -Task Serve starts it without settings; returns Uri, SignInLink (the first link it printed) and Process.
#>
function Start-TestEmbeddedWeb {
    param([string] $RunnerHome)
    $serverProject = Join-Path $script:RepoRoot 'src/AnalysisRunner.Server'
    $dll = Join-Path $serverProject 'bin/Release/net10.0/AnalysisRunner.Server.dll'
    if (-not (Test-Path $dll)) { & dotnet build $serverProject -c Release -nologo -v quiet | Out-Null }
    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($argument in @($dll, 'embedded', "--runner:home=$RunnerHome", '--server:urls=http://127.0.0.1:0')) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true; $start.RedirectStandardInput = $true
    $process = [System.Diagnostics.Process]::Start($start)
    $uri = $null; $link = $null
    while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
        if ($line -match 'listening on (http://\S+);') { $uri = $Matches[1] }
        if ($line -match '^Sign in \(one browser, once\): (\S+)$') { $link = $Matches[1]; break }
    }
    if (-not $link) { throw "the embedded web did not start: $($process.StandardError.ReadToEnd())" }
    $null = $process.StandardOutput.ReadToEndAsync(); $null = $process.StandardError.ReadToEndAsync()
    [pscustomobject]@{ Uri = $uri; SignInLink = $link; Process = $process }
}

function Stop-TestEmbeddedWeb {
    param($Web)
    if (-not $Web) { return }
    if (-not $Web.Process.HasExited) { $Web.Process.Kill(); $Web.Process.WaitForExit() }
}

<#
 Microsoft.Playwright.dll for a test that drives a browser: from the xunit project's build (build.ps1
 -Task Test builds it before Pester starts; a Pester file run on its own builds it here), whose
 .playwright folder beside the dll holds the driver that talks to /usr/bin/chromium.
#>
function Get-TestPlaywrightAssembly {
    $project = Join-Path $script:RepoRoot 'tests/AnalysisRunner.Core.Tests'
    $dll = Join-Path $project 'bin/Release/net10.0/linux-x64/Microsoft.Playwright.dll'
    if (-not (Test-Path $dll)) {
        $built = & dotnet build $project -c Release -nologo -v quiet 2>&1
        if ($LASTEXITCODE) { throw "Building the xunit project (for Playwright) failed: $built" }
    }
    $dll
}

Export-ModuleMember -Function *
