# Failures show: why a job failed is in the job table and its log, a wait for a batch or run that
# failed is an error ($?, -ErrorAction Stop), and stopping a run stops all of it.

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

Describe 'A batch with a failed job, a job that could not start and a job cancelled after them' {
    BeforeAll {
        $world = New-TestWorld
        $b = New-Batch -Name failing
        $bad = $b | Add-BatchJob -Name bad
        $bad | Add-BatchJobCommand "echo partial > $($bad.Out); echo 'about to fail'; exit 3"
        $b | Add-BatchJob -Name noshell -Shell no-such-shell-here | Add-BatchJobCommand 'echo never' | Out-Null
        $child = $b | Add-BatchJob -Name child
        $child | Add-BatchJobCommand "cat $($bad.Out)"
        $batch = $b | Submit-Batch -Wait -ErrorAction SilentlyContinue -ErrorVariable submitErrors 6>$null
        $good = New-Batch -Name fine
        $good | Add-BatchJob -Name ok | Add-BatchJobCommand 'true' | Out-Null
        $fine = $good | Submit-Batch -Wait 6>$null
    }
    AfterAll { Remove-TestWorld $world }

    It 'shows why each job ended in the default job table, at 80 columns' {
        $table = Get-BatchJob -BatchId $batch.Id | Out-String -Width 80
        $table | Should -Match 'bad\s+Failed \(exit 3\)'
        $table | Should -Match 'noshell\s+Failed \(StartFailed\)'
        $table | Should -Match 'child\s+Cancelled \(ParentFailed\)'
    }

    It 'ends a failed job''s log with why, and a job that could not start has that as its log' {
        Get-BatchJobLog -BatchId $batch.Id -JobId 1 | Should -Be @('about to fail', "[analysis-runner] job $($batch.Id)/1 'bad' failed: exit 3")
        $startFailed = @(Get-BatchJobLog -BatchId $batch.Id -JobId 2)
        $startFailed | Should -HaveCount 1
        $startFailed[0] | Should -Match "^\[analysis-runner\] job $($batch.Id)/2 'noshell' failed: StartFailed: .*no-such-shell-here"
        Get-BatchJobLog -BatchId $batch.Id -JobId 1 -Stream Stdout | Should -Be 'about to fail'
        Get-BatchJobLog -BatchId $batch.Id -JobId 3 | Should -Be "[analysis-runner] job $($batch.Id)/3 'child' cancelled: ParentFailed"
    }

    It 'Wait-Batch writes BatchFailed naming the job and why, with the batch as its target' {
        $err = $null
        $waited = Wait-Batch -Id $batch.Id -ErrorAction SilentlyContinue -ErrorVariable err
        $waited.State | Should -Be 'Failed'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BatchFailed,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidResult'
        $err[0].Exception.Message | Should -Match "job 1 'bad' \(exit 3\); job 2 'noshell' \(StartFailed: "
        $err[0].TargetObject.Id | Should -Be $batch.Id
    }

    It 'Wait-Batch sets $? and stops under -ErrorAction Stop; a batch that succeeded is no error' {
        $null = Wait-Batch -Id $batch.Id -ErrorAction SilentlyContinue
        $? | Should -BeFalse
        { Wait-Batch -Id $batch.Id -ErrorAction Stop } | Should -Throw -ErrorId 'BatchFailed*'
        $null = Wait-Batch -Id $fine.Id
        $? | Should -BeTrue
    }

    It 'Submit-Batch -Wait reports the same error' {
        $submitErrors | Should -HaveCount 1
        $submitErrors[0].FullyQualifiedErrorId | Should -BeLike 'BatchFailed,*'
        $batch.State | Should -Be 'Failed'
    }
}

Describe 'A run that fails' {
    BeforeAll {
        $world = New-TestWorld
        Add-TestCommit -World $world -Path 'examples/bash/fail.sh' -Content "#!/usr/bin/env bash`necho 'going down'`nexit 4`n" -Executable | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/bash')
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'Submit-Analysis -Wait returns the run and writes an error naming the run, the driver job and why' {
        $err = $null
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'fails' -OutputDir 'f' fail.sh -Wait `
            -ErrorAction SilentlyContinue -ErrorVariable err 6>$null
        $run.ArGuid | Should -Not -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BatchFailed,*'
        $err[0].Exception.Message | Should -Match "^Run $($run.ArGuid): batch $($run.DriverBatchId) .* failed: job 1 'driver' \(exit 4\)"
        { $run | Wait-Batch -ErrorAction Stop } | Should -Throw -ErrorId 'BatchFailed*'
    }
}

Describe 'Stopping a run' {
    BeforeAll {
        $world = New-TestWorld
        # A driver that submits a long sub-batch and then keeps running itself.
        Add-TestCommit -World $world -Path 'examples/batch/tree.ps1' -Content @'
$b = New-Batch -Name 'long'
$b | Add-BatchJob -Name 'sleeper' | Add-BatchJobCommand 'sleep 600' | Out-Null
$b | Submit-Batch | Out-Null
Start-Sleep -Seconds 600
'@ | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/batch')
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It '$run | Stop-Batch cancels the driver and every sub-batch, and -PassThru shows them cancelled' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'tree' -OutputDir 't' tree.ps1 6>$null
        $deadline = (Get-Date).AddSeconds(180)
        while (-not (@(Get-Batch -ArGuid $run.ArGuid | Get-BatchJob | Where-Object { $_.Name -eq 'sleeper' -and $_.State -eq 'Running' })) -and (Get-Date) -lt $deadline) {
            Start-Sleep -Milliseconds 200
        }
        @(Get-Batch -ArGuid $run.ArGuid) | Should -HaveCount 2

        $stopped = @($run | Stop-Batch -PassThru -Confirm:$false)

        $stopped.Id | Should -Be @(Get-Batch -ArGuid $run.ArGuid | Sort-Object Id).Id
        $stopped.State | Should -Be @('Cancelled', 'Cancelled')
        (Get-Batch -ArGuid $run.ArGuid).State | Should -Be @('Cancelled', 'Cancelled')
    }

    It 'Stop-Batch -ArGuid names the run; an unknown one is RunNotFound' {
        $err = $null
        Stop-Batch -ArGuid 'no-such-run' -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].FullyQualifiedErrorId | Should -BeLike 'RunNotFound,*'
    }
}
