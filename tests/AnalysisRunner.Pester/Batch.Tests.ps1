BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

Describe 'The batch onboarding exercise through the runner' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' -OutputDir 'onboarding/tester/hello-world' hello.ps1 -NameToPrint "O'Brien; rm -rf ~"
        $batches = @($run | Wait-Batch -Timeout 300)
        $jobs = @($batches | Get-BatchJob)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'the driver says which batch it submitted' {
        $driver = $jobs | Where-Object Name -eq 'driver'
        $driver.State | Should -Be 'Succeeded'
        $sub = $batches | Where-Object Id -ne $run.DriverBatchId
        ($driver | Get-BatchJobLog) | Should -Contain "Submitted batch $($sub.Id)"
    }

    It 'finds the driver batch and the batch it submitted by ar_guid, with the run''s attributes' {
        $found = @(Get-Batch -ArGuid $run.ArGuid)
        $found.Count | Should -Be 2
        foreach ($b in $found) {
            $b.Attributes['ar_guid'] | Should -Be $run.ArGuid
            $b.Attributes['author'] | Should -Be 'tester@example.org'
            $b.Attributes['repository'] | Should -Be $world.Origin
            $b.Attributes['commit'] | Should -Be $run.Commit
        }
    }

    It 'the sub-batch has two jobs and the second prints what the first wrote, quoted safely' {
        $sub = $jobs | Where-Object BatchId -ne $run.DriverBatchId
        $sub.Name | Should -Be @('first job', 'second job')
        $sub.State | Should -Be @('Succeeded', 'Succeeded')
        ($sub | Where-Object Name -eq 'second job' | Get-BatchJobLog) | Should -Contain "Hello, O'Brien; rm -rf ~"
    }

    It 'the second job writes out.txt to the run''s output folder, where Get-StorageContent reads it' {
        Push-Location $world.Checkout   # identity: the checkout's git user.email
        try { Get-StorageContent gs://cpg-fewgenomes-test/onboarding/tester/hello-world/out.txt | Should -Be "Hello, O'Brien; rm -rf ~" }
        finally { Pop-Location }
    }

    It 'shows each job''s command with resources resolved to paths in the run''s tmp bucket' {
        $first = $jobs | Where-Object Name -eq 'first job'
        $first.Command | Should -Not -Match '\{\{ar:'
        $first.Command | Should -Match 'cpg-fewgenomes-test-tmp'
    }
    It 'shows the driver''s steps in its command and its log, and its environment as a property' {
        $driver = $jobs | Where-Object Name -eq 'driver'
        $steps = @($driver.Command -split "`n")
        $steps[0] | Should -Match '^# 1\. credentials: '
        $steps[1] | Should -Match "^# 2\. clone .* into repo"
        $steps[2] | Should -Match "^# 3\. checkout $($run.Commit) \(detached\)"
        $steps[3] | Should -Match '^# 4\. cd repo/examples/batch'
        $steps[-1] | Should -Match 'hello\.ps1'
        $log = @($driver | Get-BatchJobLog)
        $log | Where-Object { $_ -match '^\[runner .*\] clone .*: done in [0-9.]+ s$' } | Should -Not -BeNullOrEmpty
        $driver.Environment['CPG_CONFIG_PATH'] | Should -Be $run.ConfigPath
        $driver.Environment['AR_BATCH_ID'] | Should -Be "$($run.DriverBatchId)"
    }

    It 'gives the sub-batch''s jobs, which name no image, the run''s image' {
        $sub = $jobs | Where-Object BatchId -ne $run.DriverBatchId
        $sub.Image | Should -Be @($run.Image, $run.Image)
    }
}

Describe 'Batches built in the session' {
    BeforeAll {
        $world = New-TestWorld
    }
    AfterAll { Remove-TestWorld $world }

    It 'makes a job depend on another by using its resource' {
        $b = New-Batch -Name deps
        $j1 = $b | Add-BatchJob -Name 'writer'
        $j1 | Add-BatchJobCommand "sleep 1; echo payload > $($j1.Out)"
        $j2 = $b | Add-BatchJob -Name 'reader'
        $j2 | Add-BatchJobCommand "cat $($j1.Out)"
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        $reader = Get-BatchJob -BatchId $batch.Id -Name reader
        $reader.Parents | Should -Be @(1)
        ($reader | Get-BatchJobLog) | Should -Be 'payload'
        $writer = Get-BatchJob -BatchId $batch.Id -Name writer
        $reader.Started | Should -BeGreaterOrEqual $writer.Ended
    }

    It 'refuses a batch typed at a terminal pointed at a server, saying to Submit-Analysis it or name the home' {
        $b = New-Batch -Name 'meant for the server'
        $b | Add-BatchJob -Name 'j' | Add-BatchJobCommand 'echo hi'
        $before = @(Get-Batch).Count
        $env:AR_SERVER = 'http://127.0.0.1:9'
        try {
            $err = $null
            $b | Submit-Batch -ErrorVariable err -ErrorAction SilentlyContinue 6>$null | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'BatchNeedsRunOnServer,*'
            $err[0].TargetObject | Should -Be 'http://127.0.0.1:9/'
            $err[0].Exception.Message | Should -Match 'Submit-Analysis.*-RunnerHome'
            (Get-Batch -RunnerHome $env:AR_HOME).Count | Should -Be $before
            # Naming the home says this machine's home is meant.
            ($b | Submit-Batch -RunnerHome $env:AR_HOME -Wait -Timeout 120 6>$null).State | Should -Be 'Succeeded'
        }
        finally { Remove-Item Env:AR_SERVER }
    }

    It 'runs a job under the shell -Shell names, and refuses a shell with arguments' {
        $b = New-Batch -Name shells
        $posix = $b | Add-BatchJob -Name 'posix' -Shell sh
        $posix | Add-BatchJobCommand 'echo "shell: $0"'
        $default = $b | Add-BatchJob -Name 'default'
        $default | Add-BatchJobCommand 'echo "shell: $0"'
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        Get-BatchJob -BatchId $batch.Id -Name posix | Get-BatchJobLog | Should -Be 'shell: sh'
        Get-BatchJob -BatchId $batch.Id -Name default | Get-BatchJobLog | Should -Be 'shell: bash'

        $err = $null
        New-Batch -Name bad | Add-BatchJob -Name 'x' -Shell 'bash -e' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidShell,*'
        $err[0].TargetObject | Should -Be 'bash -e'
        "$($err[0].CategoryInfo.Category)" | Should -Be 'InvalidArgument'
    }

    It 'fans out and back in' {
        $b = New-Batch -Name fan
        $root = $b | Add-BatchJob -Name root
        $root | Add-BatchJobCommand "echo 0 > $($root.Out)"
        $leaves = foreach ($i in 1..6) {
            $j = $b | Add-BatchJob -Name "leaf $i"
            $j | Add-BatchJobCommand "echo $i | cat $($root.Out) - > $($j.Out)"
            $j
        }
        $sink = $b | Add-BatchJob -Name sink
        $sink | Add-BatchJobCommand ("cat " + (($leaves | ForEach-Object { "$($_.Out)" }) -join ' '))
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        $lines = Get-BatchJob -BatchId $batch.Id -Name sink | Get-BatchJobLog
        $lines.Count | Should -Be 12
        ($lines | Where-Object { $_ -ne '0' }) | Should -Be @('1', '2', '3', '4', '5', '6')
    }

    It 'cancels the children of a failed job, but still runs -AlwaysRun clean-up' {
        $b = New-Batch -Name failing
        $bad = $b | Add-BatchJob -Name bad
        $bad | Add-BatchJobCommand "echo partial > $($bad.Out); exit 3"
        $child = $b | Add-BatchJob -Name child
        $child | Add-BatchJobCommand "cat $($bad.Out); touch $(ConvertTo-ShellLiteral (Join-Path $world.Root 'child-ran'))"
        $cleanup = $b | Add-BatchJob -Name cleanup -AlwaysRun -DependsOn $bad
        $cleanup | Add-BatchJobCommand 'echo cleaned'
        $batch = $b | Submit-Batch -Wait -Timeout 120 -ErrorAction SilentlyContinue -ErrorVariable failed 6>$null
        $batch.State | Should -Be 'Failed'
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'BatchFailed,*'
        $jobs = Get-BatchJob -BatchId $batch.Id
        ($jobs | Where-Object Name -eq bad).ExitCode | Should -Be 3
        ($jobs | Where-Object Name -eq bad).State | Should -Be 'Failed'
        ($jobs | Where-Object Name -eq child).State | Should -Be 'Cancelled'
        ($jobs | Where-Object Name -eq cleanup).State | Should -Be 'Succeeded'
        Test-Path (Join-Path $world.Root 'child-ran') | Should -BeFalse
    }

    It 'stops a running batch with Stop-Batch' {
        $b = New-Batch -Name long
        $j = $b | Add-BatchJob -Name sleeper
        $j | Add-BatchJobCommand 'sleep 60'
        $after = $b | Add-BatchJob -Name after -DependsOn $j
        $after | Add-BatchJobCommand 'echo never'
        $batch = $b | Submit-Batch 6>$null
        $deadline = (Get-Date).AddSeconds(60)
        while ((Get-BatchJob -BatchId $batch.Id -Name sleeper).State -ne 'Running' -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 200 }
        $batch | Stop-Batch -Confirm:$false
        $done = $batch | Wait-Batch -Timeout 60 -ErrorAction SilentlyContinue -ErrorVariable cancelled
        $done.State | Should -Be 'Cancelled'
        $cancelled[0].FullyQualifiedErrorId | Should -BeLike 'BatchCancelled,*'
        (Get-BatchJob -BatchId $batch.Id).State | Should -Be @('Cancelled', 'Cancelled')
    }

    It 'follows a running job''s log with -Follow until the job ends' {
        $b = New-Batch -Name follow
        $j = $b | Add-BatchJob -Name ticker
        $j | Add-BatchJobCommand 'for i in 1 2 3; do echo "tick $i"; sleep 1; done'
        $batch = $b | Submit-Batch 6>$null
        $deadline = (Get-Date).AddSeconds(60)
        while ((Get-BatchJob -BatchId $batch.Id).State -notin 'Running', 'Succeeded' -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
        $lines = Get-BatchJob -BatchId $batch.Id | Get-BatchJobLog -Follow
        $lines | Should -Be @('tick 1', 'tick 2', 'tick 3')
        (Get-BatchJob -BatchId $batch.Id).State | Should -Be 'Succeeded'
    }

    It 'gives up waiting after -Timeout with WaitTimedOut, and the batch goes on' {
        $b = New-Batch -Name slow
        $j = $b | Add-BatchJob -Name sleeper
        $j | Add-BatchJobCommand 'sleep 20'
        $batch = $b | Submit-Batch 6>$null
        $err = $null
        $batch | Wait-Batch -Timeout 1 -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'WaitTimedOut*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        (Get-Batch -Id $batch.Id).State | Should -Be 'Running'
        $batch | Stop-Batch -Confirm:$false
    }

    It 'submits nothing with -WhatIf' {
        $before = @(Get-Batch).Count
        $b = New-Batch -Name whatif
        $j = $b | Add-BatchJob -Name j
        $j | Add-BatchJobCommand 'true'
        $b | Submit-Batch -WhatIf | Should -BeNullOrEmpty
        @(Get-Batch).Count | Should -Be $before
        $b.SubmittedBatchId | Should -BeNullOrEmpty
    }

    It 'refuses to submit the same batch twice' {
        $b = New-Batch -Name twice
        $j = $b | Add-BatchJob -Name j
        $j | Add-BatchJobCommand 'true'
        $b | Submit-Batch 6>$null | Out-Null
        $err = $null
        $b | Submit-Batch -ErrorAction SilentlyContinue -ErrorVariable err 6>$null | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'BatchAlreadySubmitted*'
    }

    It 'quotes hostile job names and arguments' {
        $evil = "x'; touch $(Join-Path $world.Root 'pwned'); echo '"
        $b = New-Batch -Name $evil
        $j = $b | Add-BatchJob -Name $evil
        $j | Add-BatchJobCommand "printf '%s\n' $(ConvertTo-ShellLiteral $evil) > $($j.Out); cat $($j.Out)"
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        (Get-BatchJob -BatchId $batch.Id | Get-BatchJobLog) | Should -Be $evil
        Test-Path (Join-Path $world.Root 'pwned') | Should -BeFalse
    }

    It 'refuses <Case> at submit, naming the jobs, and submits nothing' -ForEach @(
        @{ Case = 'a cycle'; ErrorId = 'DependencyCycle'; Build = {
            param($b)
            $x = $b | Add-BatchJob -Name 'job x'; $y = $b | Add-BatchJob -Name 'job y'
            $x | Add-BatchJobCommand "cat $($y.Out) > $($x.Out)"; $y | Add-BatchJobCommand "cat $($x.Out) > $($y.Out)"
            'job x' } }
        @{ Case = 'a resource no job writes'; ErrorId = 'ResourceNotWritten'; Build = {
            param($b)
            $x = $b | Add-BatchJob -Name 'silent'; $y = $b | Add-BatchJob -Name 'hopeful'
            $x | Add-BatchJobCommand 'true'; $y | Add-BatchJobCommand "cat $($x.Resource('vcf'))"
            'silent' } }
        @{ Case = 'two jobs writing one output'; ErrorId = 'DuplicateOutput'; Build = {
            param($b)
            foreach ($n in 'one', 'two') {
                $j = $b | Add-BatchJob -Name "writer $n"; $j | Add-BatchJobCommand "echo $n > $($j.Out)"
                $j | Write-BatchOutput $j.Out 'gs://cpg-fewgenomes-test/same.txt'
            }
            'writer two' } }
        @{ Case = 'a job bigger than the executor'; ErrorId = 'ResourcesExceedExecutor'; Build = {
            param($b)
            $j = $b | Add-BatchJob -Name 'huge' -Cpu 64; $j | Add-BatchJobCommand 'true'
            'huge' } }
    ) {
        $before = @(Get-Batch).Count
        $b = New-Batch -Name refused
        $name = & $Build $b
        $err = $null
        $b | Submit-Batch -ErrorAction SilentlyContinue -ErrorVariable err 6>$null | Out-Null
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId*"
        $err[0].Exception.Message | Should -Match ([regex]::Escape($name))
        @(Get-Batch).Count | Should -Be $before
    }

    It 'copies a Write-BatchOutput resource to the bucket after success, and reads inputs' {
        $inputFile = Join-Path $world.Home 'buckets/cpg-fewgenomes-test/in/data.txt'
        New-Item -ItemType Directory -Force (Split-Path $inputFile) | Out-Null
        Set-Content $inputFile 'from the bucket'
        $b = New-Batch -Name io
        $in = $b | Read-BatchInput 'gs://cpg-fewgenomes-test/in/data.txt'
        $j = $b | Add-BatchJob -Name copy
        $j | Add-BatchJobCommand "tr a-z A-Z < $in > $($j.Out)"
        $j | Write-BatchOutput $j.Out 'gs://cpg-fewgenomes-test/out/upper.txt'
        ($b | Submit-Batch -Wait -Timeout 120 6>$null).State | Should -Be 'Succeeded'
        Get-Content (Join-Path $world.Home 'buckets/cpg-fewgenomes-test/out/upper.txt') | Should -Be 'FROM THE BUCKET'
    }
}

Describe 'Waiting reads the progress preference as PowerShell does' {
    BeforeAll {
        # The decision itself (internal): a wait nobody watches follows batch ends only, with no database reads on the way.
        $reader = (Get-Command Wait-Batch).ImplementingType.Assembly.GetType('AnalysisRunner.PowerShell.ProgressPreferenceReader', $true)
        $shows = $reader.GetMethod('Shows', [Reflection.BindingFlags]'NonPublic,Static', $null, [type[]]@([object], [object]), $null)
    }

    It 'shows progress: <Expected>, for the preference <Preference> (<Kind>) with <With>' -ForEach @(
        @{ Kind = 'a string, as a function sets it'; Preference = 'SilentlyContinue'; Action = $null; With = 'no -ProgressAction'; Expected = $false }
        @{ Kind = 'the enum'; Preference = [Management.Automation.ActionPreference]::SilentlyContinue; Action = $null; With = 'no -ProgressAction'; Expected = $false }
        @{ Kind = 'a string'; Preference = 'Continue'; Action = $null; With = 'no -ProgressAction'; Expected = $true }
        @{ Kind = 'the enum'; Preference = [Management.Automation.ActionPreference]::Continue; Action = 'SilentlyContinue'; With = '-ProgressAction SilentlyContinue'; Expected = $false }
        @{ Kind = 'a string'; Preference = 'SilentlyContinue'; Action = [Management.Automation.ActionPreference]::Continue; With = '-ProgressAction Continue'; Expected = $true }
        @{ Kind = 'unset'; Preference = $null; Action = $null; With = 'no -ProgressAction'; Expected = $true }
    ) {
        $shows.Invoke($null, @($Action, $Preference)) | Should -Be $Expected
    }

    It 'a function''s string preference is what the wait sees' {
        # What the first case stands for: inside a function, $ProgressPreference = 'SilentlyContinue' is a string.
        & { $ProgressPreference = 'SilentlyContinue'; $ExecutionContext.SessionState.PSVariable.GetValue('ProgressPreference') } | Should -BeOfType [string]
    }
}
