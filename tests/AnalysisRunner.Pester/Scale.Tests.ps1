# The batch engine under faults and load, through the cmdlets: a killed executor, concurrent
# sessions, retries with their logs, and removing what is finished. Tests tagged Slow run with
# build.ps1 -Task Test -IncludeSlow (and in CI), not in the quick default.

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    # Jobs that append their number to a ledger; the last $Gated of them first wait at the lock on $Gate.
    function New-LedgerBatch([string] $Name, [int] $Count, [string] $Ledger, [string] $Gate, [int] $Gated) {
        $b = New-Batch -Name $Name
        foreach ($i in 0..($Count - 1)) {
            $j = $b | Add-BatchJob -Name "job $i" -Cpu 0.5
            $wait = if ($i -ge $Count - $Gated) { "flock -s $(ConvertTo-ShellLiteral $Gate) true" } else { 'sleep 0.05' }
            $j | Add-BatchJobCommand "$wait; echo $i >> $(ConvertTo-ShellLiteral $Ledger)"
        }
        $b
    }
}

Describe 'A batch whose executor is killed' -Tag Slow {
    BeforeAll {
        # Unsandboxed: the jobs append to a ledger in the test's folder, which a sandboxed job cannot see
        # (SandboxTests show a killed executor's sandboxed jobs are retried, not adopted).
        $world = New-TestWorld
        $world.StorageSettings = "[executor]`nsandbox = `"none`""
        Write-TestSettings $world
    }
    AfterAll { Remove-TestWorld $world }

    It 'Resume-Batch recovers it and every one of 200 jobs succeeds exactly once' {
        $ledger = Join-Path $world.Root 'ran.txt'
        # The last jobs wait at a gate, so the batch is still running when its executor is killed, however slow the machine.
        $gatePath = Join-Path $world.Root 'gate'
        $gate = [IO.File]::Open($gatePath, 'OpenOrCreate', 'ReadWrite', 'None')
        $batch = New-LedgerBatch -Name crash -Count 200 -Ledger $ledger -Gate $gatePath -Gated 10 | Submit-Batch
        $deadline = (Get-Date).AddSeconds(60)
        while ((Get-Batch -Id $batch.Id).SucceededJobs -lt 40 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $executor = [AnalysisRunner.Core.Batch.ExecutorClient]::RunningProcessId([AnalysisRunner.Core.Hosting.RunnerHome]::new($world.Home))
        Stop-Process -Id $executor -Force
        while ([AnalysisRunner.Core.Batch.ExecutorClient]::IsRunning([AnalysisRunner.Core.Hosting.RunnerHome]::new($world.Home))) { Start-Sleep -Milliseconds 20 }
        (Get-Batch -Id $batch.Id).State | Should -Be 'Running'
        $gate.Dispose()

        $resumed = Resume-Batch -Id $batch.Id
        $resumed.Id | Should -Be $batch.Id
        $done = $resumed | Wait-Batch -Timeout 300 6>$null

        $done.State | Should -Be 'Succeeded'
        $ran = @(Get-Content $ledger | ForEach-Object { [int]$_ })
        $ran.Count | Should -Be 200
        ($ran | Sort-Object -Unique).Count | Should -Be 200
    }
}

Describe 'Concurrent sessions' -Tag Slow {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    It 'two pwsh sessions submitting batches at once all complete, none refused' {
        $pwsh = (Get-Process -Id $PID).Path
        $pwshArgs = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        $script = @'
$ErrorActionPreference = 'Stop'
Import-Module AnalysisRunner
foreach ($n in 1..4) {
    $b = New-Batch -Name "session $env:AR_SESSION batch $n"
    foreach ($i in 1..5) { $b | Add-BatchJob -Name "j$i" -Cpu 0.25 | Add-BatchJobCommand "echo $i" | Out-Null }
    ($b | Submit-Batch).Id
}
'@
        # Start-Process joins its arguments into one command line; an encoded script survives that.
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
        $sessions = foreach ($s in 1, 2) {
            $env:AR_SESSION = $s
            $out = Join-Path $world.Root "session$s.txt"
            Start-Process -FilePath $pwsh -ArgumentList ($pwshArgs + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)) `
                -RedirectStandardOutput $out -RedirectStandardError "$out.err" -PassThru
        }
        $sessions | Wait-Process -Timeout 240
        $sessions | ForEach-Object { $_.ExitCode | Should -Be 0 }
        $ids = foreach ($s in 1, 2) { Get-Content (Join-Path $world.Root "session$s.txt") | Where-Object { $_ -match '^\d+$' } | ForEach-Object { [long]$_ } }
        $ids.Count | Should -Be 8
        $batches = Wait-Batch -Id $ids -Timeout 240 6>$null
        $batches.State | Sort-Object -Unique | Should -Be 'Succeeded'
        ($batches | Measure-Object SucceededJobs -Sum).Sum | Should -Be 40
    }
}

Describe 'Retries and clean-up' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    It 'keeps each attempt''s log and lists the attempts' {
        $marker = Join-Path $world.Root 'failed-once'
        $b = New-Batch -Name retry
        $j = $b | Add-BatchJob -Name flaky -Preemptible -MaxAttempts 3
        $j | Add-BatchJobCommand "echo attempt `$AR_ATTEMPT; if [ ! -e $(ConvertTo-ShellLiteral $marker) ]; then touch $(ConvertTo-ShellLiteral $marker); exit 1; fi"
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        $attempts = @(Get-BatchJobLog -BatchId $batch.Id -JobId 1 -ListAttempts)
        $attempts.Attempt | Should -Be @(1, 2)
        $attempts.ExitCode | Should -Be @(1, 0)
        Get-BatchJobLog -BatchId $batch.Id -JobId 1 -Attempt 1 | Should -Be 'attempt 1'
        Get-BatchJobLog -BatchId $batch.Id -JobId 1 | Should -Be 'attempt 2'
    }

    It 'Remove-Batch refuses a running batch and removes a finished one with its logs and work files' {
        $b = New-Batch -Name slow
        $b | Add-BatchJob -Name sleeper | Add-BatchJobCommand 'sleep 60' | Out-Null
        $slow = $b | Submit-Batch
        { Remove-Batch -Id $slow.Id -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'BatchNotFinished*'

        Remove-Batch -Id $slow.Id -WhatIf
        Get-Batch -Id $slow.Id | Should -Not -BeNullOrEmpty
        Stop-Batch -Id $slow.Id
        Wait-Batch -Id $slow.Id -Timeout 60 -ErrorAction SilentlyContinue 6>$null | Remove-Batch -Confirm:$false

        Get-Batch -Id $slow.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Join-Path $world.Home "logs/$($slow.Id)" | Should -Not -Exist
        Join-Path $world.Home "work/$($slow.Id)" | Should -Not -Exist
    }
}
