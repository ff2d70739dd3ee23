<#
.SYNOPSIS
    Figures 3 and 4: a local DAG run by ours, `make -j2` and `snakemake -j2`, at several sizes.
.DESCRIPTION
    The DAG for N jobs (N = 1,000 in figure 3): a root, fan-out to W = N/10 chains of 8 jobs, a
    fan-in of the W chain ends, then a chain to N jobs. Every job writes one file:
    the root `echo root > <file>`, every other job `cat <parents' files> > <file>`. The last file
    holds W lines "root", which each tool's run is checked against.
    Ours: built with New-Batch/Add-BatchJob/Add-BatchJobCommand and $job.Out (not timed), then
    `Submit-Batch -Wait` timed from submit to completion, with a fresh runner home per run and no
    executor running before it (so its start is included). Executor peak memory is VmHWM from
    /proc/<executor pid>/status, read after the batch completes.
    make: a generated Makefile, `make -j2`. snakemake: a generated Snakefile (one rule for the root,
    one wildcard rule with the parents from a dict), `snakemake -j2`. Each in a fresh folder per run,
    output to a log file. Runs of the three tools alternate.
#>
param(
    [Parameter(Mandatory)] [string] $OutFile,
    [Parameter(Mandatory)] [string] $WorkRoot,
    # Comma-separated DAG sizes with the runs of ours and make at each (size:runs); the first is figure 3,
    # with the most runs: its ratios are the targets, and this machine's run-to-run spread is wide.
    [string] $Sizes = '1000:5,2000:3,4000:2,10000:1',
    # Snakemake is slow: it runs this many times at the first size (at most that size's runs), once at the others.
    [int] $SnakemakeRuns = 1,
    # A snakemake run longer than this is killed, and sizes whose run would exceed it (extrapolated
    # linearly from the previous size) are skipped.
    [int] $SnakemakeCapSeconds = 300,
    [switch] $SkipSnakemake,
    # At the first size, this many more pairs with both tools' folders on tmpfs (no inode cost on create).
    [int] $TmpfsRuns = 3,
    # At the first size, this many more pairs with the per-batch bubblewrap sandbox switched on, beside make.
    [int] $SandboxRuns = 3,
    [string] $TmpfsRoot = '/dev/shm'
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module AnalysisRunner

$runsBySize = @{}   # a plain hashtable: an [ordered] one would read an int key as a position
$sizeList = @(foreach ($item in $Sizes -split ',') {
    $size, $runs = $item.Trim() -split ':'
    $runsBySize[[int]$size] = if ($runs) { [int]$runs } else { 3 }
    [int]$size
})
$haveSnakemake = -not $SkipSnakemake -and [bool](Get-Command snakemake -ErrorAction SilentlyContinue)
$env:AR_EXECUTOR_IDLE_SECONDS = '60'   # stays up after the batch so its VmHWM can be read; stopped explicitly

<# parents[i] = the indices job i reads. #>
function Get-DagParents([int] $N) {
    $width = [int][Math]::Floor($N / 10)
    $fanIn = 1 + 8 * $width
    if ($width -lt 1 -or $fanIn -ge $N) { throw "A DAG of $N jobs is too small for this shape." }
    $parents = [System.Collections.Generic.List[int[]]]::new($N)
    $parents.Add(@())
    for ($c = 0; $c -lt $width; $c++) {
        for ($p = 0; $p -lt 8; $p++) {
            $index = 1 + $c * 8 + $p
            $parents.Add(@(if ($p -eq 0) { 0 } else { $index - 1 }))
        }
    }
    $parents.Add(@(for ($c = 0; $c -lt $width; $c++) { 1 + $c * 8 + 7 }))
    for ($i = $fanIn + 1; $i -lt $N; $i++) { $parents.Add(@($i - 1)) }
    , $parents.ToArray()
}

function Get-JobCommand([int[]] $Parents, [string[]] $Files, [string] $Out) {
    if ($Parents.Count -eq 0) { "echo root > $Out" } else { "cat $(($Parents | ForEach-Object { $Files[$_] }) -join ' ') > $Out" }
}

function Assert-LastFile([string] $Path, [int] $Width, [string] $Tool) {
    $lines = @(Get-Content $Path)
    if ($lines.Count -ne $Width -or ($lines | Where-Object { $_ -ne 'root' })) {
        throw "$Tool wrote $($lines.Count) lines to its last file, expected $Width lines 'root'."
    }
}

<# Files and folders under a folder (what a run created, when read before and after it). #>
function Get-EntryCount([string] $Path) { @([IO.Directory]::EnumerateFileSystemEntries($Path, '*', 'AllDirectories')).Count }

function Invoke-Ours([int] $N, $Parents, [int] $Run, [string] $Shell, [string] $Root = $WorkRoot, [switch] $Sandbox) {
    # A home name of its own per kind of run: this process's SQLite pool keeps a connection to an earlier
    # home's database file by its path, so a new home at the same path would be written through the old, deleted file.
    $runnerHome = New-BenchDirectory $Root "ours-$N-$Run$Shell$(if ($Sandbox) { '-sandbox' })"
    $env:AR_HOME = $runnerHome
    # The per-batch sandbox (issue 13) is named in the home's settings either way: on ("bubblewrap",
    # required) for the sandbox rows, off ("none") for the rest, so the embedded default does not decide.
    Set-Content (Join-Path $runnerHome 'settings.toml') "[executor]`nsandbox = `"$(if ($Sandbox) { 'bubblewrap' } else { 'none' })`""
    $batch = New-Batch -Name "bench dag $N"
    $jobs = [object[]]::new($N)
    $outs = [string[]]::new($N)
    $jobOptions = if ($Shell) { @{ Shell = $Shell } } else { @{} }
    for ($i = 0; $i -lt $N; $i++) {
        $job = Add-BatchJob -Batch $batch -Name "j$i" @jobOptions
        $jobs[$i] = $job
        $outs[$i] = "$($job.Out)"
        Add-BatchJobCommand -Job $job -Command (Get-JobCommand $Parents[$i] $outs $outs[$i])
    }
    $entriesBefore = Get-EntryCount $runnerHome
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $submitted = Submit-Batch -Batch $batch 6>$null
    # What this client spends while it waits: it blocks on the executor's batch-end signal.
    $wait = Measure-ClientCpu { Wait-Batch -Id $submitted.Id -Timeout 3600 6>$null }
    $info = $wait.Result
    $clock.Stop()
    if ("$($info.State)" -ne 'Succeeded') { throw "Our batch of $N jobs ended $($info.State): $($info.SucceededJobs) succeeded, $($info.FailedJobs) failed." }
    $entries = (Get-EntryCount $runnerHome) - $entriesBefore
    $executorPid = Get-ExecutorProcessId $runnerHome
    $memory = if ($executorPid) { Get-PeakMemoryMiB $executorPid } else { $null }
    $cpu = if ($executorPid) { Get-ProcessCpuSeconds $executorPid } else { $null }
    Stop-BenchExecutor $runnerHome
    Remove-Item -Recurse -Force $runnerHome
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; MemoryMiB = $memory; ExecutorCpu = $cpu.Own; JobsCpu = $cpu.Children
        ClientCpu = $wait.Total; ClientWaitCpu = $wait.Wait; ClientCompilerCpu = $wait.Background; EntriesPerJob = $entries / $N }
}

function Invoke-Make([int] $N, $Parents, [int] $Run, [string] $Root = $WorkRoot) {
    $dir = New-BenchDirectory $Root "make-$N-$Run"
    $files = [string[]]@(for ($i = 0; $i -lt $N; $i++) { "j$i" })
    $text = [Text.StringBuilder]::new()
    [void]$text.AppendLine(".PHONY: all").AppendLine("all: j$($N - 1)")
    for ($i = 0; $i -lt $N; $i++) {
        [void]$text.AppendLine("j${i}: $(($Parents[$i] | ForEach-Object { $files[$_] }) -join ' ')")
        [void]$text.AppendLine("`t$(Get-JobCommand $Parents[$i] $files $files[$i])")
    }
    Set-Content (Join-Path $dir 'Makefile') $text.ToString() -NoNewline
    # make is this pwsh's child: what it and its shells used shows up in this process's children CPU once it is waited for.
    $before = (Get-ProcessCpuSeconds $PID).Children
    $seconds = Invoke-TimedProcess make @('-j2') -WorkingDirectory $dir -LogPath (Join-Path $WorkRoot "make-$N-$Run.log")
    $cpu = (Get-ProcessCpuSeconds $PID).Children - $before
    Assert-LastFile (Join-Path $dir "j$($N - 1)") ([Math]::Floor($N / 10)) 'make'
    $entries = (Get-EntryCount $dir) - 1   # less the Makefile
    Remove-Item -Recurse -Force $dir
    [pscustomobject]@{ Seconds = $seconds; Cpu = $cpu; EntriesPerJob = $entries / $N }
}

function Invoke-Snakemake([int] $N, $Parents, [int] $Run) {
    $dir = New-BenchDirectory $WorkRoot "snakemake-$N-$Run"
    $text = [Text.StringBuilder]::new()
    [void]$text.AppendLine('PARENTS = {')
    for ($i = 1; $i -lt $N; $i++) {
        [void]$text.AppendLine("    'j$i': [$(($Parents[$i] | ForEach-Object { "'j$_'" }) -join ', ')],")
    }
    [void]$text.AppendLine('}')
    [void]$text.AppendLine(@"

rule all:
    input: 'j$($N - 1)'

rule root:
    output: 'j0'
    shell: 'echo root > {output}'

rule job:
    input: lambda wildcards: PARENTS[wildcards.name]
    output: '{name}'
    wildcard_constraints: name = 'j[1-9][0-9]*'
    shell: 'cat {input} > {output}'
"@)
    Set-Content (Join-Path $dir 'Snakefile') $text.ToString() -NoNewline
    $seconds = Invoke-TimedProcess snakemake @('-j2') -WorkingDirectory $dir -LogPath (Join-Path $WorkRoot "snakemake-$N-$Run.log") `
        -TimeoutSeconds $SnakemakeCapSeconds
    if ($null -ne $seconds) { Assert-LastFile (Join-Path $dir "j$($N - 1)") ([Math]::Floor($N / 10)) 'snakemake' }
    Remove-Item -Recurse -Force $dir
    $seconds
}

$results = [ordered]@{}
$notes = [System.Collections.Generic.List[string]]::new()
$snakemakeStopped = -not $haveSnakemake
$previous = $null
foreach ($n in $sizeList) {
    $parents = Get-DagParents $n
    $ours = @(); $memory = @(); $make = @(); $snake = @(); $oursSh = @()
    $executorCpu = @(); $jobsCpu = @(); $makeCpu = @(); $jobsShCpu = @(); $clientCpu = @(); $clientWaitCpu = @(); $clientCompilerCpu = @(); $oursEntries = @(); $makeEntries = @(); $loads = @()
    $runsHere = $runsBySize[$n]
    $snakeRuns = if ($n -eq $sizeList[0]) { [Math]::Min($SnakemakeRuns, $runsHere) } else { 1 }
    $snakeFailure = $null
    if (-not $snakemakeStopped -and $previous -and $results["$previous"].snakemake.Count -gt 0) {
        $predicted = (Get-Stat $results["$previous"].snakemake).Median * $n / $previous
        if ($predicted -gt $SnakemakeCapSeconds) {
            $notes.Add("snakemake skipped at $n jobs and above: $([int]$predicted) s expected (linear from $previous jobs) exceeds the $SnakemakeCapSeconds s cap.")
            $snakemakeStopped = $true
        }
    }
    for ($r = 1; $r -le $runsHere; $r++) {
        $loads += [double]((Get-Content /proc/loadavg) -split ' ')[0]
        $o = Invoke-Ours $n $parents $r
        $ours += $o.Seconds
        $clientCpu += $o.ClientCpu; $clientWaitCpu += $o.ClientWaitCpu; $clientCompilerCpu += $o.ClientCompilerCpu; $oursEntries += $o.EntriesPerJob
        if ($null -ne $o.MemoryMiB) { $memory += $o.MemoryMiB }
        $m = Invoke-Make $n $parents $r
        $make += $m.Seconds
        $makeEntries += $m.EntriesPerJob
        if ($null -ne $o.ExecutorCpu) { $executorCpu += $o.ExecutorCpu; $jobsCpu += $o.JobsCpu; $makeCpu += $m.Cpu }
        $line = "$n jobs, run ${r}: ours $(Format-Number $o.Seconds 2) s (executor peak $(if ($o.MemoryMiB) { [int]$o.MemoryMiB } else { '?' }) MiB, CPU executor $(Format-Number $o.ExecutorCpu 2) s + jobs $(Format-Number $o.JobsCpu 2) s), make $(Format-Number $m.Seconds 2) s (CPU $(Format-Number $m.Cpu 2) s); client CPU waiting $([int]($o.ClientCpu * 1000)) ms (the wait $([int]($o.ClientWaitCpu * 1000)), the runtime's compiler $([int]($o.ClientCompilerCpu * 1000))); load $($loads[-1])"
        if ($n -eq $sizeList[0]) {
            # The same jobs under make's own shell (-Shell sh): what is left of the gap once bash is not in it.
            $withSh = Invoke-Ours $n $parents $r -Shell sh
            $oursSh += $withSh.Seconds
            if ($null -ne $withSh.JobsCpu) { $jobsShCpu += $withSh.JobsCpu }
            $line += ", ours -Shell sh $(Format-Number $withSh.Seconds 2) s (CPU jobs $(Format-Number $withSh.JobsCpu 2) s)"
        }
        if (-not $snakemakeStopped -and $r -le $snakeRuns) {
            try { $s = Invoke-Snakemake $n $parents $r }
            catch {
                # A peer that fails is a result, not a harness error: say so and stop running it.
                $why = @("$_" -split "`n" | Where-Object { $_ -match 'Error' } | Select-Object -First 2) -join ' '
                $snakeFailure = "failed at $n jobs: $($why.Trim())"
                $notes.Add("snakemake $snakeFailure; not run at larger sizes.")
                $snakemakeStopped = $true
                $line += ", snakemake failed"
                Write-BenchLine $line
                continue
            }
            if ($null -eq $s) {
                $notes.Add("snakemake at $n jobs ran past the $SnakemakeCapSeconds s cap and was killed; larger sizes skipped.")
                $snakemakeStopped = $true
                $line += ", snakemake > $SnakemakeCapSeconds s (killed)"
            }
            else { $snake += $s; $line += ", snakemake $(Format-Number $s 2) s" }
        }
        Write-BenchLine $line
    }
    $tmpfsOurs = @(); $tmpfsMake = @(); $sandbox = $null
    if ($n -eq $sizeList[0]) {
        # The same pairs with both tools' folders on tmpfs: what the file system costs each of them.
        $tmpfs = New-BenchDirectory $TmpfsRoot ("ar-bench-tmpfs-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        try {
            for ($r = 1; $r -le $TmpfsRuns; $r++) {
                $tmpfsOurs += (Invoke-Ours $n $parents $r -Root $tmpfs).Seconds
                $tmpfsMake += (Invoke-Make $n $parents $r -Root $tmpfs).Seconds
                Write-BenchLine "$n jobs on tmpfs, run ${r}: ours $(Format-Number $tmpfsOurs[-1] 2) s, make $(Format-Number $tmpfsMake[-1] 2) s"
            }
        }
        finally { Remove-Item -Recurse -Force $tmpfs -ErrorAction SilentlyContinue }
        # The per-batch sandbox (issue 13): the same DAG with it switched on, each run beside a make run.
        try {
            # (Jobs' CPU is not reported here: they are the launcher's children inside bwrap, not the executor's.)
            $sandbox = @{ ours = @(); make = @() }
            for ($r = 1; $r -le $SandboxRuns; $r++) {
                $withSandbox = Invoke-Ours $n $parents $r -Sandbox
                $sandbox.ours += $withSandbox.Seconds
                $sandbox.make += (Invoke-Make $n $parents $r).Seconds
                Write-BenchLine "$n jobs with the sandbox, run ${r}: ours $(Format-Number $sandbox.ours[-1] 2) s, make $(Format-Number $sandbox.make[-1] 2) s"
            }
        }
        catch {
            if ("$($_.FullyQualifiedErrorId)$_" -notmatch 'SandboxNotAvailable') { throw }
            $sandbox = @{ missing = 'the per-batch sandbox is not built yet ([executor] sandbox = "bubblewrap" is refused with SandboxNotAvailable)' }
            Remove-Item -Recurse -Force (Join-Path $WorkRoot "ours-$n-1") -ErrorAction SilentlyContinue
        }
    }
    $results["$n"] = [ordered]@{ size = $n; ours = $ours; oursSh = $oursSh; memory = $memory; make = $make; snakemake = $snake; snakemakeFailure = $snakeFailure
        executorCpu = $executorCpu; jobsCpu = $jobsCpu; makeCpu = $makeCpu; jobsShCpu = $jobsShCpu; clientCpu = $clientCpu; clientWaitCpu = $clientWaitCpu; clientCompilerCpu = $clientCompilerCpu
        oursEntries = $oursEntries; makeEntries = $makeEntries; loads = $loads; tmpfsOurs = $tmpfsOurs; tmpfsMake = $tmpfsMake; sandbox = $sandbox }
    $previous = $n
}

function Format-Tools($entry) {
    $text = "make $(Format-Seconds (Get-Stat $entry.make))"
    if (@($entry.snakemake).Count) { $text += "; snakemake $(Format-Seconds (Get-Stat $entry.snakemake))" }
    if ($entry.snakemakeFailure) { $text += "; snakemake $($entry.snakemakeFailure)" }
    $text
}

$rows = [System.Collections.Generic.List[object]]::new()
$first = $true
foreach ($entry in $results.Values) {
    $n = $entry.size
    $oursStat = Get-Stat $entry.ours
    $vsMake = Get-Stat @(for ($i = 0; $i -lt $entry.ours.Count; $i++) { $entry.ours[$i] / $entry.make[$i] })
    $figure = if ($first) { "3. Local DAG, $n jobs, vs make -j2" } else { "4. Local DAG, $n jobs, vs make -j2" }
    $rows.Add((New-ResultRow -Figure $figure -Ours (Format-Seconds $oursStat) -Peer (Format-Tools $entry) `
        -Ratio (Format-Ratio $vsMake) -Target $(if ($first) { '≤ 1.0× make' } else { '—' }) -Met $(if ($first) { $vsMake.Median -le 1.0 })))
    if ($first -and @($entry.makeCpu).Count) {
        # Per-job CPU, split: on 2 cores wall time follows CPU, so this says where the time goes.
        $perJob = { param($samples) (Get-Stat $samples).Median * 1000 / $n }
        $jobsVsMake = Get-Stat @(for ($i = 0; $i -lt $entry.makeCpu.Count; $i++) { $entry.jobsCpu[$i] / $entry.makeCpu[$i] })
        $allVsMake = Get-Stat @(for ($i = 0; $i -lt $entry.makeCpu.Count; $i++) { ($entry.executorCpu[$i] + $entry.jobsCpu[$i]) / $entry.makeCpu[$i] })
        $rows.Add((New-ResultRow -Figure "3. CPU per job, $n jobs: our executor and our jobs (bash and its commands), vs make's whole tree" `
            -Ours "executor $(Format-Number (& $perJob $entry.executorCpu) 2) ms + jobs $(Format-Number (& $perJob $entry.jobsCpu) 2) ms" `
            -Peer "make $(Format-Number (& $perJob $entry.makeCpu) 2) ms (make, its sh and commands)" `
            -Ratio "jobs alone $(Format-Ratio $jobsVsMake); all $(Format-Ratio $allVsMake)" -Target 'reported'))
        if (@($entry.jobsShCpu).Count -eq @($entry.makeCpu).Count) {
            $shJobsVsMake = Get-Stat @(for ($i = 0; $i -lt $entry.makeCpu.Count; $i++) { $entry.jobsShCpu[$i] / $entry.makeCpu[$i] })
            $rows.Add((New-ResultRow -Figure "3. CPU per job, $n jobs: our jobs under -Shell sh, vs make's whole tree" `
                -Ours "jobs $(Format-Number (& $perJob $entry.jobsShCpu) 2) ms" -Peer "make $(Format-Number (& $perJob $entry.makeCpu) 2) ms" `
                -Ratio "jobs alone $(Format-Ratio $shJobsVsMake)" -Target 'reported'))
        }
    }
    if ($first) {
        # Split by thread: the wait itself, and the runtime's background compiler re-compiling (tier 1) what building
        # and submitting the batch made hot, which pwsh does whenever it goes quiet and a module cannot switch off.
        $ms = { param($samples) Format-Ms (Get-Stat @($samples | ForEach-Object { $_ * 1000 })) }
        $rows.Add((New-ResultRow -Figure "3. Client CPU while waiting (Wait-Batch on the executor's signal), $n jobs" `
            -Ours "the wait itself $(& $ms $entry.clientWaitCpu); in all $(& $ms $entry.clientCpu), of which pwsh's background compiler $(& $ms $entry.clientCompilerCpu)" `
            -Target 'next to nothing (the wait itself)' -Met ((Get-Stat $entry.clientWaitCpu).Median -lt 0.05)))
        $rows.Add((New-ResultRow -Figure "3. Files and folders created per job (left in the runner home after the run; make: in its folder), $n jobs" `
            -Ours (Format-Number (Get-Stat $entry.oursEntries).Median 2) -Peer "make $(Format-Number (Get-Stat $entry.makeEntries).Median 2)" `
            -Target '≤ 1 new inode per job (its output)' -Met ((Get-Stat $entry.oursEntries).Median -le 1.05)))
        if (@($entry.tmpfsOurs).Count) {
            $onTmpfs = Get-Stat @(for ($i = 0; $i -lt $entry.tmpfsOurs.Count; $i++) { $entry.tmpfsOurs[$i] / $entry.tmpfsMake[$i] })
            $rows.Add((New-ResultRow -Figure "3. Local DAG on tmpfs, $n jobs, vs make -j2" -Ours (Format-Seconds (Get-Stat $entry.tmpfsOurs)) `
                -Peer "make $(Format-Seconds (Get-Stat $entry.tmpfsMake))" -Ratio (Format-Ratio $onTmpfs) -Target 'reported'))
        }
        if ($entry.sandbox -and ($entry.sandbox.missing -or @($entry.sandbox.ours).Count)) {   # -SandboxRuns 0: no row
            $row = if ($entry.sandbox.missing) {
                New-ResultRow -Figure "3. Local DAG with the per-batch sandbox, $n jobs, vs make -j2" -Ours "not measured: $($entry.sandbox.missing)" -Target '≤ 1.1× make'
            } else {
                $withSandbox = Get-Stat @(for ($i = 0; $i -lt $entry.sandbox.ours.Count; $i++) { $entry.sandbox.ours[$i] / $entry.sandbox.make[$i] })
                $overPlain = (Get-Stat $entry.sandbox.ours).Median / (Get-Stat $entry.ours).Median
                New-ResultRow -Figure "3. Local DAG with the per-batch sandbox, $n jobs, vs make -j2" `
                    -Ours "$(Format-Seconds (Get-Stat $entry.sandbox.ours)); $(Format-Number $overPlain 2)× our unsandboxed median" `
                    -Peer "make $(Format-Seconds (Get-Stat $entry.sandbox.make))" -Ratio (Format-Ratio $withSandbox) -Target '≤ 1.1× make' -Met ($withSandbox.Median -le 1.1)
            }
            $rows.Add($row)
        }
    }
    if (@($entry.oursSh).Count) {
        $shVsMake = Get-Stat @(for ($i = 0; $i -lt $entry.oursSh.Count; $i++) { $entry.oursSh[$i] / $entry.make[$i] })
        $rows.Add((New-ResultRow -Figure "3. Local DAG, $n jobs, jobs under -Shell sh (make's shell), vs make -j2" -Ours (Format-Seconds (Get-Stat $entry.oursSh)) `
            -Peer "make $(Format-Seconds (Get-Stat $entry.make))" -Ratio (Format-Ratio $shVsMake) -Target '— (the target is for the default, bash)'))
    }
    if (@($entry.snakemake).Count) {
        $snakeStat = Get-Stat $entry.snakemake
        $ratio = $oursStat.Median / $snakeStat.Median
        $figure = if ($first) { "3. Local DAG, $n jobs, vs snakemake -j2" } else { "4. Local DAG, $n jobs, vs snakemake -j2" }
        $rows.Add((New-ResultRow -Figure $figure -Ours (Format-Seconds $oursStat) -Peer "snakemake $(Format-Seconds $snakeStat)" `
            -Ratio "$(Format-Number $ratio 2)× (medians)" -Target $(if ($first) { '≤ 0.2× snakemake (≥ 5× faster)' } else { '—' }) `
            -Met $(if ($first) { $ratio -le 0.2 })))
    }
    if (@($entry.memory).Count) {
        $rows.Add((New-ResultRow -Figure "4. Executor peak memory (VmHWM), $n jobs" -Ours "$(Format-Number (Get-Stat $entry.memory).Median 0) MiB (max $(Format-Number (Get-Stat $entry.memory).Max 0))" -Target 'reported'))
    }
    $first = $false
}

# Growth per doubling, from medians: a step of factor f counts as f = 2^k doublings.
$sizesDone = @($results.Values | ForEach-Object { $_.size })
for ($i = 1; $i -lt $sizesDone.Count; $i++) {
    $a = $results["$($sizesDone[$i - 1])"]; $b = $results["$($sizesDone[$i])"]
    $doublings = [Math]::Log($b.size / $a.size, 2)
    $growth = { param($x, $y) [Math]::Pow((Get-Stat $y).Median / (Get-Stat $x).Median, 1 / $doublings) }
    $oursGrowth = & $growth $a.ours $b.ours
    $peer = "make $(Format-Number (& $growth $a.make $b.make) 2)×"
    if (@($a.snakemake).Count -and @($b.snakemake).Count) { $peer += "; snakemake $(Format-Number (& $growth $a.snakemake $b.snakemake) 2)×" }
    $label = if ([Math]::Abs($doublings - 1) -lt 1e-9) { '' } else { " (per doubling: (t$($b.size)/t$($a.size))^(1/log2($($b.size / $a.size))))" }
    $rows.Add((New-ResultRow -Figure "4. Growth $($a.size) → $($b.size) jobs$label" -Ours "$(Format-Number $oursGrowth 2)×" -Peer $peer `
        -Target '≤ 2.2× per doubling' -Met ($oursGrowth -le 2.2)))
}

$notes.Insert(0, "Load average (1 min) before each pair at $($sizeList[0]) jobs: $(($results["$($sizeList[0])"].loads | ForEach-Object { Format-Number $_ 1 }) -join ', '). At $($sizeList[0]) jobs also $TmpfsRuns pairs with both tools' folders on tmpfs ($TmpfsRoot); client CPU is this pwsh's own CPU time during Wait-Batch (progress not shown), split by thread into the wait itself and the runtime's background compiler (its thread, and threads that ended during the wait); files and folders per job count what a run leaves in its runner home (make: its folder, less the Makefile).")
$notes.Insert(0, "DAG: runs of ours and make per size $(($sizeList | ForEach-Object { "$($_): $($runsBySize[$_])" }) -join ', ') (fewer at large sizes to keep the run near 25 min), alternating, snakemake $(if ($haveSnakemake) { "$([Math]::Min($SnakemakeRuns, $runsBySize[$sizeList[0]])) run(s) at $($sizeList[0]) jobs and 1 at each larger size, each capped at $SnakemakeCapSeconds s" } else { 'not run' }); ours timed around ``Submit-Batch`` then ``Wait-Batch`` (validation, insert, executor start, all jobs, and the client seeing the end through the executor's batch-end signal); a fresh runner home per run. At $($sizeList[0]) jobs ours also runs the same jobs with ``-Shell sh``, the shell make runs its recipes with.")
Save-FigureResult -Path $OutFile -Name 'dag' -Rows $rows -Notes $notes -Data @($results.Values)
