# Handles stay visible and output reads well: the run's ArGuid and driver batch at 80 columns, a
# submit line that names them, Ctrl-C during -Wait saying how to find the run, and default views.

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    # Holds a lock that jobs wait on with `flock -s <path> true`, until it is disposed.
    function New-TestGate([string] $Path) { [IO.File]::Open($Path, 'OpenOrCreate', 'ReadWrite', 'None') }
}

Describe 'A run''s handles' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $info = $null
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'handles' -OutputDir 'h' hello.sh me -InformationVariable info
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'the submit line names the run and its driver batch' {
        ($info | Out-String) | Should -Match ([regex]::Escape("Submitted run $($run.ArGuid) (driver batch $($run.DriverBatchId)): $($world.Origin)@$($world.Commit) examples/bash/hello.sh for dataset fewgenomes at test"))
    }

    It 'the default run view shows ArGuid and the driver batch at 80 columns, for Submit-Analysis and Get-AnalysisLog' {
        foreach ($shown in ($run | Out-String -Width 80), (Get-AnalysisLog -First 1 | Out-String -Width 80)) {
            $shown | Should -Match ([regex]::Escape($run.ArGuid))
            $shown | Should -Match "\b$($run.DriverBatchId)\b"
            ($shown -split "`n" | Measure-Object -Maximum Length).Maximum | Should -BeLessOrEqual 80
        }
    }

    It 'a run stopped before its driver batch was made shows none as its batch (0 would be one still to be made)' {
        # As a server's Get-AnalysisLog answers it (an embedded home never withholds): the same run, withheld.
        $withheld = $run.'<Clone>$'()
        [AnalysisRunner.Core.Runs.RunRecord].GetProperty('DriverBatchId').SetValue($withheld, [long] 0)
        [AnalysisRunner.Core.Runs.RunRecord].GetProperty('DriverBatchWithheld').SetValue($withheld, $true)
        $run.DriverBatchWithheld | Should -BeFalse
        $shown = $withheld | Out-String -Width 80
        $shown | Should -Match "$([regex]::Escape($run.ArGuid)) +none "
        ($shown -split "`n" | Measure-Object -Maximum Length).Maximum | Should -BeLessOrEqual 80
    }

    It 'a command run with no checkout is named by its command' {
        $info = $null
        Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'cmd' -OutputDir 'c' -SkipRepoCheckout echo 'no repo' -InformationVariable info | Out-Null
        ($info | Out-String) | Should -Match "driver batch \d+\): echo 'no repo' \(no checkout\) for dataset fewgenomes at test"
        ($info | Out-String) | Should -Not -Match '\(no repository\)@-'
    }

    It 'a batch whose cancel is asked for but not yet carried out shows as Cancelling' {
        $shown = [AnalysisRunner.Core.Batch.BatchInfo]@{ Id = 99; Name = 'x'; State = 'Running'; TotalJobs = 1; Created = [DateTimeOffset]::Now; CancelRequested = $true } | Out-String
        $shown | Should -Match '99\s+Cancelling'
    }
}

Describe 'Ctrl-C during Submit-Analysis -Wait' {
    BeforeAll {
        $world = New-TestWorld
        Add-TestCommit -World $world -Path 'examples/bash/long.sh' -Content "#!/usr/bin/env bash`nsleep 600`n" -Executable | Out-Null
    }
    AfterAll { Remove-TestWorld $world }

    It 'stops waiting, leaves the run running and says how to find it again' {
        $pwsh = (Get-Process -Id $PID).Path
        $prefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        # Its own session (setsid), so the SIGINT a terminal sends to its foreground group reaches it alone.
        # SIGINT back to its default first: a test run started in the background by a shell without job
        # control inherits SIGINT ignored (bash does that to `cmd &`), and an ignored Ctrl-C stops nothing.
        $start = [System.Diagnostics.ProcessStartInfo]::new('env')
        foreach ($word in @('--default-signal=INT', 'setsid', $pwsh) + $prefix + @('-NoProfile', '-NonInteractive', '-Command',
                'Import-Module AnalysisRunner; Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description long -OutputDir l long.sh -Wait')) {
            $start.ArgumentList.Add($word)
        }
        $start.WorkingDirectory = Join-Path $world.Checkout 'examples/bash'
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardInput = $true
        $start.Environment['NO_COLOR'] = '1'
        $child = [System.Diagnostics.Process]::Start($start)
        try {
            $lines = [System.Collections.Generic.List[string]]::new()
            $arGuid = $null
            while (-not $arGuid) {
                $next = $child.StandardOutput.ReadLineAsync()
                if (-not $next.Wait([TimeSpan]::FromSeconds(120)) -or $null -eq $next.Result) { break }
                $lines.Add($next.Result)
                if ($next.Result -match 'Submitted run ([0-9a-f-]{36})') { $arGuid = $Matches[1] }
            }
            $arGuid | Should -Not -BeNullOrEmpty -Because ($lines -join "`n")
            # The precondition of the whole test: the process takes SIGINT (2 in the SigIgn mask is SIGINT, signal 2, ignored).
            $ignored = [Convert]::ToUInt64(((Get-Content "/proc/$($child.Id)/status") -match '^SigIgn:' -replace '^SigIgn:\s*'), 16)
            $ignored -band 2 | Should -Be 0 -Because 'pwsh must not start with SIGINT ignored'

            # What a terminal does on Ctrl-C: SIGINT to the foreground process group.
            & (Get-Command kill -CommandType Application | Select-Object -First 1).Source -INT -- "-$($child.Id)"
            $rest = $child.StandardOutput.ReadToEndAsync()
            if (-not $child.WaitForExit(180000)) {
                # Its managed stacks (dotnet-stack, a local tool of this repository) say where it waits.
                Write-Host "pwsh (pid $($child.Id)) has not exited 180 s after SIGINT; its stacks:"
                Push-Location $PSScriptRoot
                try { & dotnet dotnet-stack report -p $child.Id 2>&1 | Out-Host } finally { Pop-Location }
                throw "pwsh did not exit within 180 s of the SIGINT during Submit-Analysis -Wait (stacks above)"
            }
            $rest.Wait(10000) | Out-Null
            $rest.Result | Should -Match ([regex]::Escape("Get-Batch -ArGuid $arGuid"))
            (Get-Batch -ArGuid $arGuid).State | Should -Be 'Running'
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            Get-Batch -ArGuid $arGuid -ErrorAction SilentlyContinue | Stop-Batch -Confirm:$false
        }
    }
}

Describe 'Default views' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'views' -OutputDir 'v' hello.sh me -Wait 6>$null
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'Get-BatchJobLog -ListAttempts is a table of attempts' {
        $shown = $run | Get-BatchJob | Get-BatchJobLog -ListAttempts | Out-String -Width 120
        $shown | Should -Match 'Batch\s+Job\s+Attempt\s+Exit\s+Started\s+Took\s+Reason'
        $shown | Should -Match "$($run.DriverBatchId)\s+1\s+1\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[0-9.]+s"
    }

    It 'Get-CpgConfig shows nested tables as TOML sections, not @{…}' {
        $shown = $run | Get-CpgConfig | Out-String -Width 200
        $shown | Should -Not -Match '@\{'
        $shown | Should -Match '\[workflow\]'
        $shown | Should -Match 'dataset = "fewgenomes"'
        $shown | Should -Match '\[storage\.default\]'
        $shown | Should -Match ([regex]::Escape("# $($run.ConfigPath)"))
        ($run | Get-CpgConfig).storage.default.tmp | Should -BeLike '*cpg-fewgenomes-test-tmp'
    }
}

Describe 'Get-BatchJobLog -Follow on a job that has not started' {
    BeforeAll {
        $world = New-TestWorld
        # The gate is a lock file under the test's /tmp folder, which a sandboxed job does not see
        # (the sandbox mounts its own /tmp): unsandboxed, the first job really waits at the gate.
        $world.StorageSettings = "[executor]`nsandbox = `"none`""
        Write-TestSettings $world
    }
    AfterAll { Remove-TestWorld $world }

    It 'says it is waiting for the job, then follows its log once it runs' {
        $gatePath = Join-Path $world.Root 'gate'
        $gate = New-TestGate $gatePath
        try {
            $b = New-Batch -Name follow
            $b | Add-BatchJob -Name first | Add-BatchJobCommand "flock -s $(ConvertTo-ShellLiteral $gatePath) true" | Out-Null
            $second = $b | Add-BatchJob -Name second -DependsOn ($b.Jobs[0])
            $second | Add-BatchJobCommand 'echo "second ran"'
            $batch = $b | Submit-Batch 6>$null

            $follower = [powershell]::Create()
            $follower.AddScript("Import-Module AnalysisRunner; Get-BatchJobLog -BatchId $($batch.Id) -JobId 2 -Follow") | Out-Null
            $async = $follower.BeginInvoke()
            $deadline = (Get-Date).AddSeconds(60)
            while ($follower.Streams.Information.Count -eq 0 -and -not $async.IsCompleted -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
            "$($follower.Streams.Information[0])" | Should -Match "job $($batch.Id)/2 'second' is Pending"
            $async.IsCompleted | Should -BeFalse

            $gate.Dispose()
            $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(120)) | Should -BeTrue
            $follower.EndInvoke($async) | Should -Be 'second ran'
        }
        finally { $gate.Dispose(); if ($follower) { $follower.Dispose() } }
    }
}
