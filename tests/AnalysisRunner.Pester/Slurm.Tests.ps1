# The Slurm runner through the cmdlets, on a real Slurm cluster ([executor] runner = "slurm"): the
# onboarding exercise, a 200-job fan-out/fan-in, a failure's dependents, Stop-Batch, and an executor
# killed mid-batch. Tagged Slurm: build.ps1 runs them with -IncludeSlurm and in CI. They need `sinfo`
# to answer (tools/Start-TestSlurm.sh starts a one-node cluster); when it does not, they FAIL.

BeforeDiscovery {
    $script:slurmTag = 'Slurm'
}

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    $sinfo = & sinfo -h -o '%T' 2>&1
    if ($LASTEXITCODE -ne 0 -or -not ($sinfo -match 'idle|mixed|allocated')) {
        throw "Slurm does not answer (sinfo: $sinfo). Start it with tools/Start-TestSlurm.sh (as root), or leave out the tag Slurm."
    }

    function New-SlurmWorld {
        $world = New-TestWorld
        Set-SlurmSettings $world
        $world
    }

    <# settings.toml: the Slurm runner, squeue asked twice a second, plus the world's identity. #>
    function Set-SlurmSettings($World, [string] $Extra = '') {
        $World.StorageSettings = "[executor]`nrunner = `"slurm`"`n`n[slurm]`npoll_seconds = 0.5`n$Extra"
        Write-TestSettings $World
    }

    <# The Slurm jobs of a batch as the runner recorded them: job → Slurm id, from its slurm-ledger. #>
    function Get-SlurmLedger($World, [long] $BatchId) {
        $path = Join-Path $World.Home "logs/$BatchId/slurm-ledger"
        @(if (Test-Path $path) { Get-Content $path | Where-Object { $_ -match '^Q ' } | ForEach-Object {
            $f = $_ -split ' '
            [pscustomobject]@{ JobId = [int]$f[1]; Attempt = [int]$f[2]; SlurmId = $f[3] }
        } })
    }

    <# Slurm's state of each id, as squeue lists it (all states). #>
    function Get-SlurmState([string[]] $Ids) {
        $states = @{}
        foreach ($line in (& squeue --me --states=all --noheader --Format='JobID:|,State:|')) {
            $f = $line -split '\|'
            if ($Ids -contains $f[0].Trim()) { $states[$f[0].Trim()] = $f[1].Trim() }
        }
        $states
    }

    <# Waits for a job's first log line: the job has started on a node (an event: the log follows the file). #>
    function Wait-JobStarted($BatchId, [string] $Name) {
        Get-BatchJob -BatchId $BatchId -Name $Name | Get-BatchJobLog -Follow -Stream Stdout | Select-Object -First 1
    }
}

Describe 'The onboarding exercise on Slurm' -Tag 'Slurm' {
    BeforeAll {
        $world = New-SlurmWorld
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch on Slurm' -OutputDir 'onboarding/tester/hello-world' hello.ps1 -NameToPrint "O'Brien; rm -rf ~"
        $batches = @($run | Wait-Batch -Timeout 300 6>$null)
        $jobs = @($batches | Get-BatchJob)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'runs the driver and the batch it submits as Slurm jobs, billed to the dataset' {
        $batches.State | Should -Be @('Succeeded', 'Succeeded')
        foreach ($b in $batches) {
            $ledger = Get-SlurmLedger $world $b.Id
            $ledger.Count | Should -Be @($jobs | Where-Object BatchId -eq $b.Id).Count
            foreach ($entry in $ledger) {
                $shown = & scontrol show job -o $entry.SlurmId
                $shown | Should -Match 'Account=fewgenomes'
                $shown | Should -Match "Comment=ar_guid=$($run.ArGuid) batch=$($b.Id) job=$($entry.JobId) attempt=1"
            }
        }
    }

    It 'the second job prints what the first wrote, quoted safely, read through Get-BatchJobLog' {
        $sub = $jobs | Where-Object BatchId -ne $run.DriverBatchId
        $sub.State | Should -Be @('Succeeded', 'Succeeded')
        ($sub | Where-Object Name -eq 'second job' | Get-BatchJobLog) | Should -Contain "Hello, O'Brien; rm -rf ~"
        $driver = $jobs | Where-Object Name -eq 'driver'
        ($driver | Get-BatchJobLog) | Should -Contain "Submitted batch $(($batches | Where-Object Id -ne $run.DriverBatchId).Id)"
    }
}

Describe 'DAGs on Slurm' -Tag 'Slurm' {
    BeforeAll { $world = New-SlurmWorld }
    AfterAll { Remove-TestWorld $world }

    It 'runs a 200-job fan-out and fan-in, each job once, the sink after every leaf' {
        $b = New-Batch -Name 'fan 200'
        $root = $b | Add-BatchJob -Name root -Memory 50Mi
        $root | Add-BatchJobCommand "echo 0 > $($root.Out)"
        $leaves = foreach ($i in 1..198) {
            $j = $b | Add-BatchJob -Name "leaf $i" -Memory 50Mi
            $j | Add-BatchJobCommand "read n < $($root.Out); echo `$((n + $i)) > $($j.Out)"
            $j
        }
        $sink = $b | Add-BatchJob -Name sink -Memory 50Mi
        $sink | Add-BatchJobCommand ("cat " + (($leaves | ForEach-Object { "$($_.Out)" }) -join ' ') + " | awk '{ s += `$1 } END { print s }'")
        $batch = $b | Submit-Batch -Wait -Timeout 600 6>$null

        $batch.State | Should -Be 'Succeeded'
        $batch.SucceededJobs | Should -Be 200
        Get-BatchJob -BatchId $batch.Id -Name sink | Get-BatchJobLog | Should -Be "$((1..198 | Measure-Object -Sum).Sum)"
        $ledger = Get-SlurmLedger $world $batch.Id
        $ledger.Count | Should -Be 200
        @($ledger.JobId | Sort-Object -Unique).Count | Should -Be 200
    }

    It 'a failing job fails with its exit code; its dependents, held in Slurm on it, are cancelled and never run' {
        $gate = Join-Path $world.Root 'fail-gate'
        $b = New-Batch -Name 'fails'
        $bad = $b | Add-BatchJob -Name bad -Memory 50Mi
        # Held until its three dependents are in Slurm, waiting on it.
        $bad | Add-BatchJobCommand "while [ ! -e $(ConvertTo-ShellLiteral $gate) ]; do sleep 0.2; done; echo about to fail; echo partial > $($bad.Out); exit 3"
        $child = $b | Add-BatchJob -Name child -Memory 50Mi
        $child | Add-BatchJobCommand "cat $($bad.Out)"
        $grandchild = $b | Add-BatchJob -Name grandchild -Memory 50Mi -DependsOn $child
        $grandchild | Add-BatchJobCommand 'echo never'
        $cleanup = $b | Add-BatchJob -Name cleanup -Memory 50Mi -DependsOn $child -AlwaysRun
        $cleanup | Add-BatchJobCommand 'echo cleaning up'
        $submitted = $b | Submit-Batch
        $deadline = (Get-Date).AddSeconds(60)
        while (@(Get-SlurmLedger $world $submitted.Id).Count -lt 4 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
        New-Item -ItemType File $gate | Out-Null
        # A failed batch is an error of Wait-Batch; this test reads the batch instead.
        $batch = Wait-Batch -Id $submitted.Id -Timeout 300 -ErrorAction SilentlyContinue 6>$null

        $batch.State | Should -Be 'Failed'
        $jobs = @(Get-BatchJob -BatchId $batch.Id)
        ($jobs | Where-Object Name -eq bad).ExitCode | Should -Be 3
        ($jobs | Where-Object Name -eq bad | Get-BatchJobLog) | Should -Contain 'about to fail'
        ($jobs | Where-Object Name -in 'child', 'grandchild').State | Should -Be @('Cancelled', 'Cancelled')
        ($jobs | Where-Object Name -in 'child', 'grandchild').Reason | Should -Be @('ParentFailed', 'ParentFailed')
        ($jobs | Where-Object Name -eq cleanup).State | Should -Be 'Succeeded'
        ($jobs | Where-Object Name -eq cleanup | Get-BatchJobLog) | Should -Contain 'cleaning up'
        # The dependents went to Slurm while 'bad' was queued, with --dependency on it; Slurm never started them.
        $ledger = Get-SlurmLedger $world $batch.Id
        $held = @($ledger | Where-Object JobId -in 2, 3)
        $held.Count | Should -Be 2
        foreach ($entry in $held) {
            $shown = & scontrol show job -o $entry.SlurmId
            $shown | Should -Match 'JobState=CANCELLED'
            # Cancelled while waiting on 'bad': by Slurm (DependencyNeverSatisfied) or by the runner first (Dependency); it never ran.
            $shown | Should -Match 'Reason=Dependency'
            # Never started: Slurm shows no start time, or a run time of zero when it set the start to the cancel time.
            # (22.05 shows a never-started job's RunTime as the time since the epoch, so RunTime alone cannot say it.)
            $shown | Should -Match '(StartTime=Unknown|RunTime=00:00:00 )'
        }
        @(Get-Content (Join-Path $world.Home "logs/$($batch.Id)/2.1.out") -ErrorAction SilentlyContinue) | Should -Not -Contain 'partial'
    }

    It 'submits a job as soon as its parent is submitted, with --dependency=afterok on it, before the parent ends' {
        $gate = Join-Path $world.Root 'dep-gate'
        $b = New-Batch -Name 'held'
        $parent = $b | Add-BatchJob -Name parent -Memory 50Mi
        $parent | Add-BatchJobCommand "echo started; while [ ! -e $(ConvertTo-ShellLiteral $gate) ]; do sleep 0.2; done; echo 41 > $($parent.Out)"
        $child = $b | Add-BatchJob -Name child -Memory 50Mi
        $child | Add-BatchJobCommand "echo `$((`$(cat $($parent.Out)) + 1))"
        $batch = $b | Submit-Batch
        Wait-JobStarted $batch.Id parent | Should -Be 'started'
        # The parent runs, held at the gate: the child is in Slurm already, waiting on it.
        $deadline = (Get-Date).AddSeconds(60)
        while (@(Get-SlurmLedger $world $batch.Id).Count -lt 2 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $ledger = Get-SlurmLedger $world $batch.Id
        $parentId = ($ledger | Where-Object JobId -eq 1).SlurmId
        $shown = & scontrol show job -o ($ledger | Where-Object JobId -eq 2).SlurmId
        $shown | Should -Match "Dependency=afterok:$($parentId)"
        $shown | Should -Match 'JobState=PENDING'
        New-Item -ItemType File $gate | Out-Null

        $done = Wait-Batch -Id $batch.Id -Timeout 120 6>$null
        $done.State | Should -Be 'Succeeded'
        Get-BatchJob -BatchId $batch.Id -Name child | Get-BatchJobLog | Should -Be '42'
    }

    It 'a job Slurm refuses fails naming Slurm''s words, and its dependents are never queued' {
        Set-SlurmSettings $world "partition = `"debug`"`naccount = `"none`"`n"
        $b = New-Batch -Name 'refused'
        $big = $b | Add-BatchJob -Name 'too much disk' -Memory 50Mi -Storage 100Ti
        $big | Add-BatchJobCommand "echo x > $($big.Out)"
        $after = $b | Add-BatchJob -Name after -Memory 50Mi
        $after | Add-BatchJobCommand "cat $($big.Out)"
        $batch = $b | Submit-Batch -Wait -Timeout 120 -ErrorAction SilentlyContinue 6>$null

        $batch.State | Should -Be 'Failed'
        $refused = Get-BatchJob -BatchId $batch.Id -Name 'too much disk'
        $refused.State | Should -Be 'Failed'
        $refused.Reason | Should -Match '^SlurmSubmitRefused: sbatch refused the job: .*sbatch: error'
        (Get-BatchJob -BatchId $batch.Id -Name after).State | Should -Be 'Cancelled'
        Get-SlurmLedger $world $batch.Id | Should -BeNullOrEmpty
    }
}

Describe 'Submitting to Slurm' -Tag 'Slurm' {
    BeforeAll {
        $world = New-SlurmWorld
        function Get-SubmitError([string] $Name, [hashtable] $Job = @{}) {
            $b = New-Batch -Name $Name
            $b | Add-BatchJob -Name $Name @Job | Add-BatchJobCommand 'true' | Out-Null
            $err = $null
            $b | Submit-Batch -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
            $err[0]
        }
    }
    AfterAll { Remove-TestWorld $world }

    It 'refuses a job bigger than the partition''s largest node, naming it' {
        $nodeMemoryMb = [long](((& sinfo -h -N -o '%m') | Measure-Object -Maximum { [long]($_ -replace '\+', '') }).Maximum)
        $e = Get-SubmitError 'huge' @{ Memory = "$($nodeMemoryMb + 1024)Mi" }
        $e.FullyQualifiedErrorId | Should -BeLike 'ResourcesExceedExecutor,*'
        $e.Exception.Message | Should -Match "'huge' \(job 1\)"
        @(Get-Batch).Count | Should -Be 0
    }

    It 'refuses a partition Slurm does not have, and a machine without the Slurm tools, with typed errors' {
        Set-SlurmSettings $world "partition = `"no-such-partition`"`n"
        $e = Get-SubmitError 'nowhere'
        $e.FullyQualifiedErrorId | Should -BeLike 'SlurmPartitionNotFound,*'
        $e.TargetObject | Should -Be 'no-such-partition'

        Set-SlurmSettings $world
        $path = $env:PATH
        try {
            $env:PATH = Join-Path $world.Root 'no-slurm-here'
            $e = Get-SubmitError 'no tools'
        }
        finally { $env:PATH = $path }
        $e.FullyQualifiedErrorId | Should -BeLike 'SlurmUnavailable,*'
        $e.Exception.Message | Should -Match 'sinfo'
        @(Get-Batch).Count | Should -Be 0
    }
}

Describe 'Stopping and restarting on Slurm' -Tag 'Slurm' {
    BeforeAll { $world = New-SlurmWorld }
    AfterAll { Remove-TestWorld $world }

    It 'Stop-Batch cancels the running Slurm jobs with scancel' {
        $b = New-Batch -Name 'to stop'
        foreach ($i in 1..3) {
            $j = $b | Add-BatchJob -Name "sleeper $i" -Memory 50Mi
            $j | Add-BatchJobCommand 'echo started; exec sleep 300'
        }
        $batch = $b | Submit-Batch
        foreach ($i in 1..3) { Wait-JobStarted $batch.Id "sleeper $i" | Should -Be 'started' }
        $ids = (Get-SlurmLedger $world $batch.Id).SlurmId
        (Get-SlurmState $ids).Values | Should -Be @('RUNNING', 'RUNNING', 'RUNNING')

        Stop-Batch -Id $batch.Id
        $done = Wait-Batch -Id $batch.Id -Timeout 120 -ErrorAction SilentlyContinue 6>$null

        $done.State | Should -Be 'Cancelled'
        (Get-BatchJob -BatchId $batch.Id).State | Should -Be @('Cancelled', 'Cancelled', 'Cancelled')
        (Get-SlurmState $ids).Values | ForEach-Object { $_ | Should -Be 'CANCELLED' }
    }

    It 'an executor killed mid-batch is replaced by one that re-attaches: no job lost, none submitted twice' {
        $ran = Join-Path $world.Root 'ran.txt'
        $gate = Join-Path $world.Root 'gate'
        $b = New-Batch -Name 'restart'
        $first = foreach ($i in 1..4) {
            $j = $b | Add-BatchJob -Name "held $i" -Memory 50Mi
            # Held until the test opens the gate: they are queued or running in Slurm while no executor watches.
            $j | Add-BatchJobCommand "echo started; while [ ! -e $(ConvertTo-ShellLiteral $gate) ]; do sleep 0.2; done; echo $i >> $(ConvertTo-ShellLiteral $ran)"
            $j
        }
        foreach ($i in 5..8) {
            $j = $b | Add-BatchJob -Name "after $i" -Memory 50Mi -DependsOn $first[$i - 5]
            $j | Add-BatchJobCommand "echo $i >> $(ConvertTo-ShellLiteral $ran)"
        }
        $batch = $b | Submit-Batch
        foreach ($i in 1..4) { Wait-JobStarted $batch.Id "held $i" | Should -Be 'started' }

        $executor = [AnalysisRunner.Core.Batch.ExecutorClient]::RunningProcessId([AnalysisRunner.Core.Hosting.RunnerHome]::new($world.Home))
        $home_ = [AnalysisRunner.Core.Hosting.RunnerHome]::new($world.Home)
        Stop-Process -Id $executor -Force
        while ([AnalysisRunner.Core.Batch.ExecutorClient]::IsRunning($home_)) { Start-Sleep -Milliseconds 20 }
        (Get-Batch -Id $batch.Id).State | Should -Be 'Running'

        $resumed = Resume-Batch -Id $batch.Id
        # The gate opens only once the new executor has re-attached to the four held jobs.
        $log = Join-Path $world.Home 'executor.log'
        $deadline = (Get-Date).AddSeconds(60)
        while (@(Select-String -Path $log -Pattern 'recovery: batch \d+ job [1-4] attempt 1 is Slurm job \d+, RUNNING').Count -lt 4 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
        New-Item -ItemType File $gate | Out-Null
        $done = $resumed | Wait-Batch -Timeout 300 6>$null

        $done.State | Should -Be 'Succeeded'
        @(Get-Content $ran | Sort-Object { [int]$_ }) | Should -Be @('1', '2', '3', '4', '5', '6', '7', '8')
        $ledger = Get-SlurmLedger $world $batch.Id
        $ledger.Count | Should -Be 8
        @($ledger | Where-Object Attempt -ne 1) | Should -BeNullOrEmpty
        @(Select-String -Path $log -Pattern 'recovery: batch \d+ job [1-4] attempt 1 is Slurm job \d+, RUNNING').Count | Should -Be 4
    }
}

Describe 'A runner per dataset' -Tag 'Slurm' {
    BeforeAll {
        $world = New-TestWorld
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -OtherTestMembers 'tester@example.org' -Repositories @($world.Origin)
        $world.StorageSettings = "[executor]`nrunner = `"local`"`n`n[executor.datasets.fewgenomes]`nrunner = `"slurm`"`n`n[slurm]`npoll_seconds = 0.5`n"
        Write-TestSettings $world
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $few = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'on Slurm' -OutputDir 'per-dataset/few' hello.ps1 -NameToPrint 'few'
        $other = Submit-Analysis -Dataset othergenomes -AccessLevel test -Description 'on this machine' -OutputDir 'per-dataset/other' hello.ps1 -NameToPrint 'other'
        $fewBatches = @($few | Wait-Batch -Timeout 300 6>$null)
        $otherBatches = @($other | Wait-Batch -Timeout 300 6>$null)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'sends one dataset''s batches to Slurm and runs another''s locally, in the same executor' {
        $fewBatches.State | Should -Be @('Succeeded', 'Succeeded')
        $otherBatches.State | Should -Be @('Succeeded', 'Succeeded')
        foreach ($b in $fewBatches) {
            $ledger = Get-SlurmLedger $world $b.Id
            $ledger.Count | Should -Be $b.TotalJobs
            foreach ($entry in $ledger) { (& scontrol show job -o $entry.SlurmId) | Should -Match 'Account=fewgenomes' }
        }
        foreach ($b in $otherBatches) { Get-SlurmLedger $world $b.Id | Should -BeNullOrEmpty }
        # Both runs were driven by one executor (one log), and each one's logs read through its own runner.
        @(Select-String -Path (Join-Path $world.Home 'executor.log') -Pattern 'listening').Count | Should -Be 1
        $fewSub = Get-BatchJob -BatchId ($fewBatches | Where-Object Id -ne $few.DriverBatchId).Id -Name 'second job'
        $otherSub = Get-BatchJob -BatchId ($otherBatches | Where-Object Id -ne $other.DriverBatchId).Id -Name 'second job'
        ($fewSub | Get-BatchJobLog) | Should -Contain 'Hello, few'
        ($otherSub | Get-BatchJobLog) | Should -Contain 'Hello, other'
    }
}
