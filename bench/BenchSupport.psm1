# Helpers shared by the figure scripts: statistics and formatting, starting pwsh and peers with a
# stopwatch, throwaway runner homes and the scratch git world Submit-Analysis needs.

Set-StrictMode -Version Latest

#region statistics and formatting

<# Median, min and max of a set of samples (any unit). #>
function Get-Stat {
    param([Parameter(Mandatory)] [double[]] $Samples)
    $sorted = @($Samples | Sort-Object)
    $n = $sorted.Count
    $median = if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
    [pscustomobject]@{ Median = [double]$median; Min = [double]$sorted[0]; Max = [double]$sorted[-1]; N = $n; Samples = $sorted }
}

function Format-Number([double] $Value, [int] $Digits) {
    $Value.ToString("F$Digits", [Globalization.CultureInfo]::InvariantCulture)
}

<# "812 ms (790–850)" from a stat in milliseconds. #>
function Format-Ms {
    param($Stat, [int] $Digits = 0)
    if (-not $Stat) { return '—' }
    if ($Stat.N -eq 1) { return "$(Format-Number $Stat.Median $Digits) ms (1 run)" }
    "$(Format-Number $Stat.Median $Digits) ms ($(Format-Number $Stat.Min $Digits)–$(Format-Number $Stat.Max $Digits))"
}

<# "7.41 s (7.20–7.90)" from a stat in seconds. #>
function Format-Seconds {
    param($Stat, [int] $Digits = 2)
    if (-not $Stat) { return '—' }
    if ($Stat.N -eq 1) { return "$(Format-Number $Stat.Median $Digits) s (1 run)" }
    "$(Format-Number $Stat.Median $Digits) s ($(Format-Number $Stat.Min $Digits)–$(Format-Number $Stat.Max $Digits))"
}

<# "0.93× (0.90–0.97)" from a stat of per-run ratios. #>
function Format-Ratio {
    param($Stat, [int] $Digits = 2)
    if (-not $Stat) { return '—' }
    if ($Stat.N -eq 1) { return "$(Format-Number $Stat.Median $Digits)× (1 run)" }
    "$(Format-Number $Stat.Median $Digits)× ($(Format-Number $Stat.Min $Digits)–$(Format-Number $Stat.Max $Digits))"
}

<# One row of the results table. Met is 'yes', 'no' or '—' (no target). #>
function New-ResultRow {
    param([string] $Figure, [string] $Ours, [string] $Peer = '—', [string] $Ratio = '—', [string] $Target = '—', $Met = $null)
    $metText = if ($null -eq $Met) { '—' } elseif ($Met) { 'yes' } else { '**NO**' }
    [ordered]@{ figure = $Figure; ours = $Ours; peer = $Peer; ratio = $Ratio; target = $Target; met = $metText }
}

<# Writes a figure's result (rows for the table, notes, optional data for the plot) as JSON for bench.ps1. #>
function Save-FigureResult {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Name, [object[]] $Rows = @(),
        [string[]] $Notes = @(), $Data = $null)
    [ordered]@{ name = $Name; rows = @($Rows); notes = @($Notes); data = $Data } |
        ConvertTo-Json -Depth 8 | Set-Content -Path $Path -Encoding utf8
}

function Write-BenchLine([string] $Text) { Write-Host "  $Text" }

#endregion

#region processes

<#
 How to start pwsh without the `dotnet pwsh` tool shim (~450 ms per call, TOOLCHAIN.md): the dotnet
 host plus this pwsh's own pwsh.dll. Returns the file and the leading arguments.
#>
function Get-PwshCommand {
    $exe = (Get-Process -Id $PID).Path
    if ((Split-Path $exe -Leaf) -like 'dotnet*') {
        return [pscustomobject]@{ File = $exe; Arguments = @(Join-Path $PSHOME 'pwsh.dll') }
    }
    [pscustomobject]@{ File = $exe; Arguments = @() }
}

<#
 Runs a program to completion with its output to a log file and returns the wall time in seconds,
 or $null if it ran past the timeout (then it is killed). Throws on a non-zero exit status.
#>
function Invoke-TimedProcess {
    param([Parameter(Mandatory)] [string] $File, [string[]] $Arguments = @(), [string] $WorkingDirectory = $PWD.Path,
        [string] $LogPath = '/dev/null', [double] $TimeoutSeconds = 3600)
    $info = [Diagnostics.ProcessStartInfo]::new($File)
    foreach ($a in $Arguments) { $info.ArgumentList.Add($a) }
    $info.WorkingDirectory = $WorkingDirectory
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $log = [IO.StreamWriter]::new($LogPath, $true)
    try {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $process = [Diagnostics.Process]::Start($info)
        $out = $process.StandardOutput.ReadToEndAsync()
        $err = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit([int]($TimeoutSeconds * 1000))) {
            $process.Kill($true)
            $process.WaitForExit()
            return $null
        }
        $process.WaitForExit()
        $clock.Stop()
        $log.Write($out.Result); $log.Write($err.Result)
        if ($process.ExitCode -ne 0) {
            throw "$File $($Arguments -join ' ') exited with $($process.ExitCode): $($err.Result.Trim() | Select-Object -Last 1)"
        }
        $clock.Elapsed.TotalSeconds
    }
    finally { $log.Dispose() }
}

<# Peak resident memory (VmHWM) of a process in MiB, or $null. #>
function Get-PeakMemoryMiB([int] $ProcessId) {
    $status = "/proc/$ProcessId/status"
    if (-not (Test-Path $status)) { return $null }
    $line = Get-Content $status | Where-Object { $_ -like 'VmHWM:*' }
    if (-not $line) { return $null }
    [double](($line -split '\s+')[1]) / 1024
}

<#
 CPU seconds of a process from /proc/<pid>/stat: Own (user + system) and Children (user + system of
 the children it has waited for, and theirs in turn). $null if the process is gone.
#>
function Get-ProcessCpuSeconds([int] $ProcessId) {
    $path = "/proc/$ProcessId/stat"
    if (-not (Test-Path $path)) { return $null }
    $text = Get-Content -Raw $path
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis start at 3.
    $fields = $text.Substring($text.LastIndexOf(')') + 2) -split ' '
    [pscustomobject]@{
        Own = ([double]$fields[11] + [double]$fields[12]) / $script:ClockTicks
        Children = ([double]$fields[13] + [double]$fields[14]) / $script:ClockTicks
    }
}

<#
 CPU seconds of each live thread of this process, by thread id: Name (its comm) and Cpu (user + system).
 Read before and after a wait (Split-WaitCpu), it says which threads the wait's CPU went to.
#>
function Get-ThreadCpu {
    $threads = @{}
    foreach ($task in [IO.Directory]::GetDirectories("/proc/$PID/task")) {
        try {
            $text = [IO.File]::ReadAllText("$task/stat")
            $open = $text.IndexOf('('); $close = $text.LastIndexOf(')')
            $fields = $text.Substring($close + 2) -split ' '
            $threads[[IO.Path]::GetFileName($task)] = [pscustomobject]@{ Name = $text.Substring($open + 1, $close - $open - 1)
                Cpu = ([double]$fields[11] + [double]$fields[12]) / $script:ClockTicks }
        }
        catch [IO.IOException] { }   # a thread that ended while being read
    }
    $threads
}

<#
 Splits this process's CPU over a wait (TotalCpu, seconds, from the process's own counter) into the
 runtime's background compiler (tier-1 re-JIT of code made hot before or during the wait: the thread
 .NET names "Tiered Compilation Worker"), threads that ended during the wait (their time is no longer
 readable per thread; the compiler's worker ends when idle, so most of it is that), and the rest: the
 wait itself (the pipeline thread, the poll, the reads).
#>
function Split-WaitCpu {
    param([Parameter(Mandatory)] [hashtable] $Before, [Parameter(Mandatory)] [hashtable] $After, [Parameter(Mandatory)] [double] $TotalCpu)
    $compiler = 0.0; $live = 0.0
    foreach ($id in $After.Keys) {
        $delta = $After[$id].Cpu - $(if ($Before.ContainsKey($id)) { $Before[$id].Cpu } else { 0.0 })
        $live += $delta
        if ($After[$id].Name -like '.NET Tiered*') { $compiler += $delta }
    }
    $ended = [Math]::Max(0.0, $TotalCpu - $live)
    [pscustomobject]@{ Total = $TotalCpu; Compiler = $compiler; Ended = $ended; Wait = [Math]::Max(0.0, $TotalCpu - $compiler - $ended) }
}

<#
 This process's CPU over $Action (a wait, or a sleep as its control), split by thread as Split-WaitCpu
 does: Total, Wait (the live threads other than the runtime's compiler), Background (the compiler and
 threads that ended meanwhile), Seconds, and the action's Result.
#>
function Measure-ClientCpu {
    param([Parameter(Mandatory)] [scriptblock] $Action)
    $self = [Diagnostics.Process]::GetCurrentProcess()
    $threadsBefore = Get-ThreadCpu
    $self.Refresh(); $cpuBefore = $self.TotalProcessorTime
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $result = & $Action
    $clock.Stop()
    $self.Refresh(); $total = ($self.TotalProcessorTime - $cpuBefore).TotalSeconds
    $split = Split-WaitCpu $threadsBefore (Get-ThreadCpu) $total
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Total = $total; Wait = $split.Wait; Background = $split.Compiler + $split.Ended; Result = $result }
}

# Asked once: a getconf per reading would itself be a child whose CPU lands in the next reading.
$script:ClockTicks = [double](getconf CLK_TCK)

#endregion

#region runner homes and scratch repositories

function New-BenchDirectory([string] $Root, [string] $Name) {
    $path = Join-Path $Root $Name
    if (Test-Path $path) { Remove-Item -Recurse -Force $path }
    New-Item -ItemType Directory -Force $path | Select-Object -ExpandProperty FullName
}

function Get-ExecutorClient([string] $RunnerHome) {
    [AnalysisRunner.Core.Batch.ExecutorClient]::new([AnalysisRunner.Core.Hosting.RunnerHome]::new($RunnerHome))
}

<# Stops the home's executor if one runs (jobs would be interrupted; the bench only stops idle ones). #>
function Stop-BenchExecutor([string] $RunnerHome) {
    if (-not $RunnerHome -or -not (Test-Path $RunnerHome)) { return }
    try { [void](Get-ExecutorClient $RunnerHome).Stop([TimeSpan]::FromSeconds(30)) } catch { Write-Warning "stopping the executor of ${RunnerHome}: $_" }
}

function Get-ExecutorProcessId([string] $RunnerHome) {
    [AnalysisRunner.Core.Batch.ExecutorClient]::RunningProcessId([AnalysisRunner.Core.Hosting.RunnerHome]::new($RunnerHome))
}

function Invoke-BenchGit {
    $output = git @args 2>&1
    if ($LASTEXITCODE) { throw "git $args failed: $output" }
    $output
}

<#
 A scratch world for Submit-Analysis (as examples/demo.ps1 makes it): <root>/origin.git (bare),
 <root>/checkout with the given files committed and pushed to main, and a runner home <root>/home
 whose registry allowlists the origin for dataset fewgenomes and whose settings map this OS account
 to $Email. $Files maps relative paths to text;
 .sh files are made executable. Sets $env:AR_HOME.
#>
function New-BenchWorld {
    param([Parameter(Mandatory)] [string] $Root, [hashtable] $Files = @{}, [string] $Email = 'bench@example.org')
    $origin = Join-Path $Root 'origin.git'
    $checkout = Join-Path $Root 'checkout'
    Invoke-BenchGit init -q --bare -b main $origin | Out-Null
    Invoke-BenchGit init -q -b main $checkout | Out-Null
    foreach ($entry in $Files.GetEnumerator()) {
        $path = Join-Path $checkout $entry.Key
        New-Item -ItemType Directory -Force (Split-Path $path) | Out-Null
        Set-Content -Path $path -Value $entry.Value -NoNewline
        if ($path -like '*.sh') { chmod +x $path }
    }
    Invoke-BenchGit -C $checkout config user.email $Email | Out-Null
    Invoke-BenchGit -C $checkout config user.name 'Bench' | Out-Null
    Invoke-BenchGit -C $checkout remote add origin $origin | Out-Null
    Invoke-BenchGit -C $checkout add -A | Out-Null
    Invoke-BenchGit -C $checkout commit -q -m 'bench' | Out-Null
    Invoke-BenchGit -C $checkout push -q origin main | Out-Null

    $runnerHome = Join-Path $Root 'home'
    New-Item -ItemType Directory -Force $runnerHome | Out-Null
    # Who submits is this OS account, as the runner settings map it (not the checkout's git email).
    Set-Content (Join-Path $runnerHome 'settings.toml') @"
[identity.users]
"$([Environment]::UserName)" = "$Email"
"@
    Set-Content (Join-Path $runnerHome 'registry.toml') @"
[datasets.fewgenomes]
repositories = ["$origin"]

[datasets.fewgenomes.members]
test = ["$Email"]
standard = ["$Email"]
"@
    $env:AR_HOME = $runnerHome
    [pscustomobject]@{
        Root = $Root; Origin = $origin; Checkout = $checkout; Home = $runnerHome; Email = $Email
        Commit = (Invoke-BenchGit -C $checkout rev-parse HEAD | Out-String).Trim()
    }
}

#endregion

Export-ModuleMember -Function *
