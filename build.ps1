<#
.SYNOPSIS
    Builds, tests, installs, demonstrates and benchmarks AnalysisRunner.
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test
    The quick suite; -IncludeSlow (or $env:CI set, as .ci/run does) adds the slow ones (scale, browser,
    restarts and kills, attack suites, fresh pwsh sessions), and
    -IncludeSlurm (or $env:CI) the Slurm tests, which need a Slurm cluster (tools/Start-TestSlurm.sh).
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Install
    Puts the module in your PowerShell module folder, so Import-Module AnalysisRunner works in any pwsh.
.EXAMPLE
    $env:AR_SERVER_SETTINGS = '/etc/analysis-runner/server.toml'; dotnet pwsh ./build.ps1 -Task Serve
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Serve
    With no server settings: the pages over your runner home on http://127.0.0.1:5080, for you alone;
    open the "Sign in (one browser, once): ..." link it prints.
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Install', 'Demo', 'Bench', 'Serve')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Bench only: small sizes, so CI can check the harness quickly.
    [switch] $Quick,

    # Test only: also run the tests tagged Slow: the scale tests (the 10,000-job DAG, 200 jobs through a
    # killed executor, concurrent sessions) and those whose cost is a heavyweight process per test rather
    # than the code under test (Chromium, PostgreSQL restarts, killed executors, the attack suites'
    # sandboxed runs, fresh pwsh sessions). On by default when $env:CI is set; .ci/run sets it.
    [switch] $IncludeSlow = (-not [string]::IsNullOrEmpty($env:CI)),

    # Test only: also run the tests tagged Slurm (the Slurm runner through the cmdlets on a real
    # cluster; they fail when `sinfo` does not answer). On by default when $env:CI is set.
    [switch] $IncludeSlurm = (-not [string]::IsNullOrEmpty($env:CI)),

    # Install only: install what artifacts/module already holds instead of building it first.
    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$artifacts = Join-Path $root 'artifacts'
$moduleDir = Join-Path $artifacts 'module/AnalysisRunner'
$moduleStamp = Join-Path $artifacts 'module.stamp'
$packagesDir = Join-Path $root '.tools/packages'
$pesterVersion = '5.7.1'
# Pester processes run side by side (besides xunit): the suites mostly wait on jobs and processes.
$pesterWorkers = 2
$slowTag = 'Slow'
$slurmTag = 'Slurm'
# The tags this run leaves out: Pester's ExcludeTag, and what the summary says was not run.
$excludedTags = @(if (-not $IncludeSlow) { $slowTag }) + @(if (-not $IncludeSlurm) { $slurmTag })
# How long each Pester file took in the last run of the same tier, to split the next run evenly.
$pesterDurations = Join-Path $artifacts "pester-durations-$(if ($IncludeSlow) { 'full' } else { 'quick' }).json"
# Colour codes are for a terminal; in a log file or a pipe they are noise. NO_COLOR reaches the
# pwsh processes started from here (help, Pester, the demo's), which otherwise colour even redirected output.
$plainOutput = [Console]::IsOutputRedirected
if ($plainOutput) {
    $PSStyle.OutputRendering = 'PlainText'
    $env:NO_COLOR = '1'
}

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    # Whatever this build makes (another configuration, a failure half-way), the Test task's record of
    # what the module was built from no longer holds.
    if (Test-Path $moduleStamp) { Remove-Item $moduleStamp }
    # The module and the executor are published side by side with a runtime identifier, so the native
    # libraries (libgit2, e_sqlite3) sit beside the dlls where pwsh can load them.
    if (Test-Path $moduleDir) { Remove-Item -Recurse -Force $moduleDir }
    foreach ($project in 'src/AnalysisRunner.PowerShell', 'src/AnalysisRunner.Executor') {
        Invoke-Native dotnet @('publish', (Join-Path $root $project), '-c', $Configuration, '-r', 'linux-x64',
            '--self-contained', 'false', '-o', $moduleDir, '-nologo', '-v', 'quiet', '-p:GenerateDocumentationFile=false',
            # Precompiled (ReadyToRun): less JIT at Import-Module, and an executor that starts compiled.
            '-p:PublishReadyToRun=true')
    }
    Copy-Item (Join-Path $root 'module/*') $moduleDir -Recurse -Force
    # The MAML help, from docs/help/*.md and the cmdlets themselves, in a pwsh that can load the new module.
    Invoke-Native (Get-Process -Id $PID).Path (@(Get-PwshArguments) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'tools/New-MamlHelp.ps1'),
        '-ModuleManifest', (Join-Path $moduleDir 'AnalysisRunner.psd1'), '-Source', (Join-Path $root 'docs/help'),
        '-Destination', (Join-Path $moduleDir 'en-US/AnalysisRunner.PowerShell.dll-Help.xml')))
    Write-Host "Module built at $moduleDir"
}

<#
 What a build from $Inputs (folders and files; bin/ and obj/ left out) would be made of: every input's
 path, size and last write, and the configuration, hashed. A build that ends writes it to its stamp
 file; the Test task builds again only when it changed, so a re-run of the tests does not spend its first
 20 s re-publishing an unchanged module. A fresh clone has no stamp and always builds.
#>
function Get-BuildFingerprint([string[]] $Inputs) {
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add($Configuration)
    $visit = {
        param([IO.FileSystemInfo] $item)
        if ($item -is [IO.DirectoryInfo]) {
            if ($item.Name -in 'bin', 'obj') { return }
            foreach ($child in $item.EnumerateFileSystemInfos()) { & $visit $child }
        } elseif ($item.Exists) {
            $lines.Add("$($item.FullName)|$($item.Length)|$($item.LastWriteTimeUtc.Ticks)")
        }
    }
    foreach ($path in $Inputs) {
        $full = Join-Path $root $path
        & $visit $(if (Test-Path $full -PathType Container) { [IO.DirectoryInfo]::new($full) } else { [IO.FileInfo]::new($full) })
    }
    [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes(($lines | Sort-Object) -join "`n")))
}

<# Runs $Build unless $Stamp holds the fingerprint of $Inputs as they are now and $Output exists; then records it. #>
function Invoke-UnlessUpToDate([string] $Stamp, [string[]] $Inputs, [string] $Output, [string] $What, [scriptblock] $Build) {
    $fingerprint = Get-BuildFingerprint $Inputs
    if ((Test-Path $Output) -and (Test-Path $Stamp) -and (Get-Content $Stamp -Raw).Trim() -eq $fingerprint) {
        Write-Host "$What is up to date: nothing in $($Inputs -join ', ') changed since it was built."
        return
    }
    if (Test-Path $Stamp) { Remove-Item $Stamp }
    & $Build
    Set-Content $Stamp $fingerprint
}

<# What starts another pwsh like this one: the dotnet tool runs as `dotnet pwsh.dll`. #>
function Get-PwshArguments([string] $PwshHome = $PSHOME) {
    if ((Split-Path (Get-Process -Id $PID).Path -Leaf) -like 'dotnet*') { Join-Path $PwshHome 'pwsh.dll' }
}

<#
 The pwsh the Test task starts its Pester hosts with (and they their drivers and fresh sessions, which
 run the pwsh they were started from). The pinned PowerShell tool ships its assemblies as IL only, so
 every pwsh JIT-compiles its own start-up: about 2.4 s of CPU, against 1.0 s precompiled, and the
 suites start a score of them. So the Test task runs a ReadyToRun copy of the tool, made once per
 PowerShell and runtime version under artifacts/pwsh-r2r with crossgen2 (the NuGet package the
 module's own ReadyToRun publish restores). Returns the folder holding pwsh.dll: the tool's own when
 this pwsh is not the dotnet tool, or crossgen2 is missing.
#>
function Get-TestPwshHome {
    if ((Split-Path (Get-Process -Id $PID).Path -Leaf) -notlike 'dotnet*') { return $PSHOME }
    $runtime = [Environment]::Version.ToString()
    $target = Join-Path $artifacts "pwsh-r2r/$($PSVersionTable.PSVersion)-$runtime"
    if (Test-Path (Join-Path $target 'pwsh.dll')) { return $target }
    $nuget = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $crossgen = Join-Path $nuget "microsoft.netcore.app.crossgen2.linux-x64/$runtime/tools/crossgen2"
    if (-not (Test-Path $crossgen)) {
        Write-Host "No crossgen2 for .NET $runtime in ${nuget}: the tests run the PowerShell tool as it is (IL only, slower to start)."
        return $PSHOME
    }
    Write-Host "Precompiling the PowerShell tool's start-up assemblies (once per version) into $target"
    # Built beside the target and renamed into place, so an interrupted run leaves no half-copy in use.
    $partial = "$target.partial"
    if (Test-Path $partial) { Remove-Item -Recurse -Force $partial }
    New-Item -ItemType Directory -Force (Split-Path $target) | Out-Null
    Copy-Item $PSHOME $partial -Recurse
    $framework = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
    $references = @("$framework*.dll", (Join-Path $PSHOME '*.dll'), (Join-Path $PSHOME 'runtimes/unix/lib/netstandard1.6/*.dll'))
    # What a test pwsh loads from the tool (checked with AppDomain.GetAssemblies), Security for signing checks.
    $assemblies = 'pwsh', 'System.Management.Automation', 'Microsoft.PowerShell.ConsoleHost', 'Microsoft.PowerShell.Commands.Utility',
        'Microsoft.PowerShell.Commands.Management', 'Microsoft.PowerShell.Security', 'Microsoft.PowerShell.MarkdownRender',
        'Newtonsoft.Json', 'Microsoft.ApplicationInsights', 'runtimes/unix/lib/netstandard1.6/Microsoft.Management.Infrastructure'
    $assemblies | ForEach-Object -ThrottleLimit 2 -Parallel {
        $source = Join-Path $using:PSHOME "$_.dll"
        $compiled = Join-Path $using:partial "$_.dll"
        # A response file: pwsh would expand the references' wildcards itself, and crossgen2 take the extra files as inputs.
        $arguments = "$compiled.rsp"
        Set-Content $arguments (@($using:references | ForEach-Object { "-r:$_" }) + @('--targetos:linux', '--targetarch:x64', '-O', $source, "-o:$compiled"))
        $output = & $using:crossgen "@$arguments" 2>&1
        if ($LASTEXITCODE) { throw "crossgen2 $source failed: $output" }
        Remove-Item $arguments
    }
    Move-Item $partial $target
    $target
}

function Get-PesterModulePath {
    $manifest = Join-Path $packagesDir "pester/$pesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $manifest)) {
        # Pester comes from its NuGet package (no PowerShell Gallery here): restore it into .tools.
        $restoreDir = Join-Path $root '.tools/pester-restore'
        New-Item -ItemType Directory -Force $restoreDir | Out-Null
        Set-Content (Join-Path $restoreDir 'pester-restore.csproj') @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageReference Include="Pester" Version="$pesterVersion" /></ItemGroup>
</Project>
"@
        Invoke-Native dotnet @('restore', (Join-Path $restoreDir 'pester-restore.csproj'), '--packages', $packagesDir, '-v', 'quiet')
    }
    $manifest
}

<# Runs xunit; returns its counts and the reason of each skipped test, read from its trx file. #>
function Invoke-XunitTests([string] $Results) {
    Write-Host '== xunit (Core) =='
    $filter = if ($IncludeSlow) { @() } else { @('--filter', "Category!=$slowTag") }
    # The executors the suite starts run the module's precompiled one, built from this tree by Invoke-Build (TestSupport/PublishedExecutor).
    $env:AR_TEST_EXECUTOR = Join-Path $moduleDir 'AnalysisRunner.Executor.dll'
    & dotnet test (Join-Path $root 'tests/AnalysisRunner.Core.Tests') -c $Configuration -nologo --no-build @filter `
        --logger 'trx;LogFileName=core.trx' --logger 'console;verbosity=normal' --results-directory $Results | Out-Host
    $exit = $LASTEXITCODE
    $trx = Get-ChildItem $Results -Filter core.trx -Recurse | Select-Object -First 1
    if (-not $trx) {
        return [pscustomobject]@{ Passed = 0; Failed = [int]($exit -ne 0); Skipped = 0; Skips = @(); Failures = @([pscustomobject]@{ Test = 'xunit'; Message = "no trx file; dotnet test exited $exit" }) }
    }
    $run = ([xml](Get-Content $trx.FullName -Raw)).TestRun
    $counters = $run.ResultSummary.Counters
    $skips = @(foreach ($result in @($run.Results.UnitTestResult)) {
            if ($result.outcome -ne 'NotExecuted') { continue }
            $reason = $result.SelectSingleNode("*[local-name()='Output']/*[local-name()='ErrorInfo']/*[local-name()='Message']")
            [pscustomobject]@{ Test = $result.testName; Reason = if ($reason) { $reason.InnerText.Trim() } else { 'no reason given' } }
        })
    $failures = @(foreach ($result in @($run.Results.UnitTestResult)) {
            if ($result.outcome -notin 'Failed', 'Error', 'Timeout', 'Aborted') { continue }
            $message = $result.SelectSingleNode("*[local-name()='Output']/*[local-name()='ErrorInfo']/*[local-name()='Message']")
            [pscustomobject]@{ Test = $result.testName; Message = if ($message) { $message.InnerText.Trim() } else { $result.outcome } }
        })
    $failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    # A run that failed with every test passed: a fixture's clean-up threw, or the test host crashed.
    # The trx lists such errors as RunInfos; the output has the exception's message.
    if ($exit -ne 0 -and $failed -eq 0) {
        $strip = '^\[xUnit\.net [^\]]*\]\s*'
        $output = @("$($run.ResultSummary.Output.StdOut)" -split "`n" | ForEach-Object { ($_ -replace $strip, '').Trim() })
        foreach ($info in @($run.ResultSummary.RunInfos.RunInfo) | Where-Object { $_.outcome -eq 'Error' }) {
            $what = ($info.Text -replace $strip, '').Trim()
            $exception = ($what -split '\s+')[-1]
            $why = $output | Where-Object { $_.StartsWith("$exception : ") } | Select-Object -First 1
            $failures += [pscustomobject]@{ Test = $what; Message = if ($why) { $why } else { $exception } }
        }
        if (-not $failures) { $failures = @([pscustomobject]@{ Test = 'xunit'; Message = "dotnet test exited $exit with every test passed (see its output above)" }) }
        $failed = $failures.Count
    }
    [pscustomobject]@{
        Passed = [int]$counters.passed
        Failed = $failed
        Skipped = $skips.Count   # the counters say notExecuted="0" for skipped tests; their results say NotExecuted
        Skips = $skips
        Failures = $failures
    }
}

<#
 Starts Pester in fresh pwsh processes, as a user would have it (the module from the build via
 PSModulePath): the test files split between $pesterWorkers of them, longest files first to the
 least loaded, each with its output going to a file. Receive-PesterTests waits and shows the output.
#>
function Start-PesterTests([string] $Results) {
    $pester = Get-PesterModulePath
    $exclude = '@(' + (($excludedTags | ForEach-Object { "'$_'" }) -join ', ') + ')'
    $env:PSModulePath = (Join-Path $artifacts 'module') + [IO.Path]::PathSeparator + $env:PSModulePath
    $env:AR_TEST_GCS_SERVER = Join-Path $root "tests/AnalysisRunner.GcsTestServer/bin/$Configuration/net10.0/AnalysisRunner.GcsTestServer.dll"
    # Balanced by how long each file took the last time this tier ran here, else by its size (a fresh clone).
    $took = @{}
    if (Test-Path $pesterDurations) { (Get-Content $pesterDurations -Raw | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $took[$_.Name] = [double]$_.Value } }
    $weigh = { param($file) if ($took.ContainsKey($file.Name)) { $took[$file.Name] } else { $file.Length / 1000.0 } }
    $groups = @(1..$pesterWorkers | ForEach-Object { [pscustomobject]@{ Files = [System.Collections.Generic.List[string]]::new(); Size = 0.0 } })
    foreach ($file in Get-ChildItem (Join-Path $root 'tests/AnalysisRunner.Pester') -Filter '*.Tests.ps1' | Sort-Object { & $weigh $_ } -Descending) {
        $group = $groups | Sort-Object Size | Select-Object -First 1
        $group.Files.Add($file.FullName)
        $group.Size += & $weigh $file
    }
    $pwsh = (Get-Process -Id $PID).Path
    $pwshArguments = @(Get-PwshArguments (Get-TestPwshHome))
    $n = 0
    foreach ($group in $groups | Where-Object { $_.Files.Count }) {
        $n++
        $summary = Join-Path $Results "pester-$n.json"
        $script = @"
`$ErrorActionPreference = 'Stop'
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$pester'
`$config = New-PesterConfiguration
`$config.Run.Path = @('$($group.Files -join "', '")')
`$config.Run.PassThru = `$true
`$config.Filter.ExcludeTag = $exclude
`$config.Output.Verbosity = 'Detailed'
`$config.Output.RenderMode = 'Plaintext'
`$r = Invoke-Pester -Configuration `$config
`$skips = @(foreach (`$test in `$r.Skipped) {
    @{ Test = `$test.ExpandedPath; Reason = if (`$test.ErrorRecord.Count) { `$test.ErrorRecord[0].Exception.Message } else { 'marked -Skip, no reason given' } }
})
`$failures = @(foreach (`$test in @(`$r.Failed) + @(`$r.FailedBlocks) + @(`$r.FailedContainers)) {
    @{ Test = if (`$test.ExpandedPath) { `$test.ExpandedPath } else { "`$(`$test.Name) `$(`$test.Item)" }; Message = if (`$test.ErrorRecord.Count) { `$test.ErrorRecord[0].Exception.Message } else { 'failed' } }
})
`$took = @{}; foreach (`$container in `$r.Containers) { `$took[(Split-Path `$container.Item -Leaf)] = `$container.Duration.TotalSeconds }
@{ took = `$took; passed = `$r.PassedCount; failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; skipped = `$r.SkippedCount; notRun = `$r.NotRunCount; skips = `$skips; failures = `$failures } |
    ConvertTo-Json -Depth 4 | Set-Content '$summary'
"@
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
        $output = Join-Path $Results "pester-$n.log"
        $process = Start-Process -FilePath $pwsh -ArgumentList ($pwshArguments + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)) `
            -RedirectStandardOutput $output -RedirectStandardError "$output.err" -NoNewWindow -PassThru
        [pscustomobject]@{ Process = $process; Output = $output; Summary = $summary; Files = $group.Files }
    }
}

function Receive-PesterTests($Runs) {
    $total = [pscustomobject]@{ Passed = 0; Failed = 0; Skipped = 0; NotRun = 0; Skips = @(); Failures = @(); Took = [ordered]@{} }
    foreach ($run in $Runs) {
        $run.Process.WaitForExit()
        Write-Host "== Pester (cmdlets; ran alongside xunit): $(($run.Files | ForEach-Object { Split-Path $_ -Leaf }) -join ', ') =="
        Get-Content $run.Output, "$($run.Output).err" -ErrorAction SilentlyContinue | Out-Host
        if (-not (Test-Path $run.Summary)) {
            $total.Failed++
            $total.Failures += [pscustomobject]@{ Test = ($run.Files | ForEach-Object { Split-Path $_ -Leaf }) -join ', '; Message = "Pester exited $($run.Process.ExitCode) without a summary" }
            continue
        }
        $counts = Get-Content $run.Summary -Raw | ConvertFrom-Json
        $total.Passed += [int]$counts.passed
        $total.Failed += [int]$counts.failed
        $total.Skipped += [int]$counts.skipped
        $total.NotRun += [int]$counts.notRun
        foreach ($file in $counts.took.PSObject.Properties) { $total.Took[$file.Name] = $file.Value }
        $total.Skips += @($counts.skips)
        $total.Failures += @($counts.failures)
    }
    $total
}

function Invoke-Test {
    $sources = @('src', 'module', 'docs/help', 'tools/New-MamlHelp.ps1', 'Directory.Build.props', 'build.ps1')
    Invoke-UnlessUpToDate $moduleStamp $sources (Join-Path $moduleDir 'AnalysisRunner.psd1') 'The module' { Invoke-Build }
    # The xunit project, and with it the GCS test server that Pester's gcs tests start too.
    $testsBuilt = Join-Path $root "tests/AnalysisRunner.Core.Tests/bin/$Configuration"
    Invoke-UnlessUpToDate (Join-Path $artifacts "tests-$Configuration.stamp") ($sources + @('tests/AnalysisRunner.Core.Tests', 'tests/AnalysisRunner.GcsTestServer')) $testsBuilt 'The xunit project' {
        Invoke-Native dotnet @('build', (Join-Path $root 'tests/AnalysisRunner.Core.Tests'), '-c', $Configuration, '-nologo', '-v', 'quiet')
    }
    # Every process of the suite (xunit's host, the Pester hosts and what they start) compiles each
    # method once, fully optimised, instead of first quickly and then again once it is called often:
    # a test process runs most of its code a few times, and the second compilation (with its
    # profiling) was wasted. Measured here: xunit's CPU 28% lower (43.9 and 40.2 s against 31.0 and
    # 29.2 s for three namespaces), a Pester host's own CPU 40% lower (21.9, 24.5 s against 13.2,
    # 13.6 s for two files). The executor already runs this way; users' pwsh is untouched.
    $env:DOTNET_TieredCompilation = '0'
    $results = Join-Path $artifacts 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    New-Item -ItemType Directory -Force $results | Out-Null

    # Side by side: both spend most of their time waiting on jobs and processes, not on the CPU.
    $pesterRun = Start-PesterTests $results
    try {
        $xunit = Invoke-XunitTests $results
        $pester = Receive-PesterTests $pesterRun
        if ($pester.Took.Count) { $pester.Took | ConvertTo-Json | Set-Content $pesterDurations }
    }
    finally {
        # Interrupted (Ctrl-C): the Pester runs are ours to end.
        foreach ($run in $pesterRun) { if (-not $run.Process.HasExited) { $run.Process.Kill($true) } }
    }

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped) skipped; Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    if ($excludedTags) {
        Write-Host "Not run: the tests tagged $($excludedTags -join ' or ') ($($pester.NotRun) of them in Pester, and xunit's Category=$slowTag): $(@(
            if (-not $IncludeSlow) { "-IncludeSlow runs the slow ones (scale, browser, restarts and kills, attack suites, fresh pwsh sessions)" }
            if (-not $IncludeSlurm) { "-IncludeSlurm the Slurm ones (a real Slurm cluster)" }) -join '; '), and CI runs both."
    }
    # Each reason once, with the tests it kept from running.
    foreach ($group in @($xunit.Skips) + @($pester.Skips) | Where-Object { $_ } | Group-Object Reason) {
        Write-Host "Skipped $($group.Count): $($group.Name) ($(($group.Group.Test | Sort-Object) -join '; '))"
    }
    # Last before the count, so a log cut to its tail (as CI shows it) still names what failed.
    foreach ($failure in @($xunit.Failures) + @($pester.Failures) | Where-Object { $_ }) {
        $firstLines = (($failure.Message -split "`n") | Select-Object -First 3) -join ' | '
        Write-Host "FAILED: $($failure.Test): $firstLines"
    }
    Write-Output "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0) { exit 1 }
}

<#
 Copies the built module into the current user's PowerShell module folder (on Linux
 $XDG_DATA_HOME/powershell/Modules, else ~/.local/share/powershell/Modules), which every pwsh has on
 its PSModulePath, as AnalysisRunner/<version>. An earlier copy of the same version is replaced.
#>
function Invoke-Install {
    if (-not $NoBuild) { Invoke-Build }
    if (-not (Test-Path (Join-Path $moduleDir 'AnalysisRunner.psd1'))) { throw "No module at ${moduleDir}: run build.ps1 -Task Build first (or leave out -NoBuild)." }
    $version = (Import-PowerShellDataFile (Join-Path $moduleDir 'AnalysisRunner.psd1')).ModuleVersion
    $userModules = Join-Path ([Environment]::GetFolderPath('LocalApplicationData', 'DoNotVerify')) 'powershell/Modules'
    $target = Join-Path $userModules "AnalysisRunner/$version"
    if (Test-Path $target) { Remove-Item -Recurse -Force $target }
    New-Item -ItemType Directory -Force $target | Out-Null
    Copy-Item (Join-Path $moduleDir '*') $target -Recurse -Force
    Write-Host "Installed AnalysisRunner $version in $target; in any pwsh: Import-Module AnalysisRunner"
}

function Invoke-Demo {
    Invoke-Build
    $env:PSModulePath = (Join-Path $artifacts 'module') + [IO.Path]::PathSeparator + $env:PSModulePath
    & (Join-Path $root 'examples/demo.ps1')
}

function Invoke-Bench {
    # Side by side with peers (make, snakemake, sqlite3; installed from Debian when missing); writes
    # bench/results.md and bench/dag-scaling.png, or with -Quick the -quick variants (small sizes, for CI).
    Invoke-Build
    $env:PSModulePath = (Join-Path $artifacts 'module') + [IO.Path]::PathSeparator + $env:PSModulePath
    & (Join-Path $root 'bench/bench.ps1') -Quick:$Quick
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

function Invoke-Serve {
    # AnalysisRunner.Server in the foreground (Ctrl+C stops it), with the settings file named by
    # AR_SERVER_SETTINGS, else ./server.toml; src/AnalysisRunner.Server/server.example.toml shows every key.
    # With neither, the embedded web: the pages over the runner home (AR_HOME, else ~/.analysis-runner)
    # on 127.0.0.1:5080 for this OS account alone, signed in with the one-time link it prints.
    $settings = if ($env:AR_SERVER_SETTINGS) { $env:AR_SERVER_SETTINGS } else { Join-Path $root 'server.toml' }
    if ($env:AR_SERVER_SETTINGS -and -not (Test-Path $settings)) {
        throw "No server settings at ${settings} (AR_SERVER_SETTINGS): copy src/AnalysisRunner.Server/server.example.toml there and set [database] connection_string."
    }
    # The server runs its home's batches with this build's module, so drivers can import it.
    if (-not (Test-Path (Join-Path $moduleDir 'AnalysisRunner.psd1'))) { Invoke-Build }
    $arguments = if (Test-Path $settings) { @('--settings', $settings, "--runner:module=$moduleDir") } else { @('embedded') }
    Invoke-Native dotnet (@('run', '--project', (Join-Path $root 'src/AnalysisRunner.Server'), '-c', $Configuration, '--') + $arguments)
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Install' { Invoke-Install }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Serve' { Invoke-Serve }
}
