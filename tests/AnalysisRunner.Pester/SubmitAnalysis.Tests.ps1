BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

Describe 'Submit-Analysis runs the onboarding exercise' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $info = $null
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Bash' `
            -OutputDir 'onboarding/tester/hello-world/' hello.sh tester -Wait -InformationVariable info
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'says what it submitted, as the anchor CLI does, with the run and its driver batch' {
        ($info | Out-String) | Should -Match ([regex]::Escape("Submitted run $($run.ArGuid) (driver batch $($run.DriverBatchId)): $($world.Origin)@$($world.Commit) examples/bash/hello.sh for dataset fewgenomes at test"))
    }

    It 'returns a typed run with the captured source' {
        $run | Should -BeOfType ([AnalysisRunner.Core.Runs.RunRecord])
        $run.Repository | Should -Be $world.Origin
        $run.Commit | Should -Be $world.Commit
        $run.Cwd | Should -Be 'examples/bash'
        $run.Script | Should -Be 'hello.sh'
        $run.ScriptArguments | Should -Be @('tester')
        $run.User | Should -Be 'tester@example.org'
        $run.Dataset | Should -Be 'fewgenomes'
        $run.AccessLevel | Should -Be 'Test'
        $run.ArGuid | Should -Match '^[0-9a-f-]{36}$'
        $run.DriverBatchId | Should -BeGreaterThan 0
        $run.Image | Should -Not -BeNullOrEmpty
    }

    It 'puts the output under the test bucket and drops the trailing slash' {
        $run.OutputPrefix | Should -Be 'onboarding/tester/hello-world'
        $run.OutputDir | Should -BeLike '*cpg-fewgenomes-test/onboarding/tester/hello-world'
    }

    It 'runs the script in a driver job whose log says hello' {
        $jobs = @($run | Get-BatchJob)
        $jobs.Count | Should -Be 1
        $jobs[0].Name | Should -Be 'driver'
        $jobs[0].State | Should -Be 'Succeeded'
        $jobs[0].ExitCode | Should -Be 0
        ($jobs | Get-BatchJobLog) | Should -Contain 'Hello, tester!'
    }

    It 'writes the run config once, read-only, with the workflow and storage sections' {
        Test-Path $run.ConfigPath | Should -BeTrue
        (Get-Item $run.ConfigPath).UnixFileMode.ToString() | Should -Not -Match 'UserWrite'
        $config = $run | Get-CpgConfig
        $config.workflow.ar_guid | Should -Be $run.ArGuid
        $config.workflow.access_level | Should -Be 'test'
        $config.workflow.dataset | Should -Be 'fewgenomes'
        $config.workflow.output_prefix | Should -Be 'onboarding/tester/hello-world'
        $config.hail.billing_project | Should -Be 'fewgenomes'
        $config.storage.default.default | Should -BeLike '*cpg-fewgenomes-test'
        $config.storage.default.tmp | Should -BeLike '*cpg-fewgenomes-test-tmp'
        $config.storage.fewgenomes.web | Should -BeLike '*cpg-fewgenomes-test-web'
    }

    It 'records the run in the audit log with all it needs to re-run it' {
        $entry = Get-AnalysisLog -Dataset fewgenomes -First 1
        $entry.ArGuid | Should -Be $run.ArGuid
        $entry.Commit | Should -Be $run.Commit
        $entry.Cwd | Should -Be 'examples/bash'
        $entry.ScriptArguments | Should -Be @('tester')
        $entry.DriverBatchId | Should -Be $run.DriverBatchId
        $entry.ConfigPath | Should -Be $run.ConfigPath
    }
}

Describe 'Submit-Analysis passes script arguments verbatim' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    It 'passes <Arguments> to hello.sh unchanged' -ForEach @(
        @{ Arguments = @("O'Brien; rm -rf ~"); Expected = "Hello, O'Brien; rm -rf ~!" }
        @{ Arguments = @('$(touch pwned) `x` "q"'); Expected = 'Hello, $(touch pwned) `x` "q"!' }
        @{ Arguments = @('two words'); Expected = 'Hello, two words!' }
    ) {
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        try {
            $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'quoting' -OutputDir 'q' hello.sh @Arguments -Wait
        } finally { Pop-Location }
        $run.ScriptArguments | Should -Be $Arguments
        ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain $Expected
        (Get-AnalysisLog -ArGuid $run.ArGuid).ScriptArguments | Should -Be $Arguments
        Test-Path (Join-Path $world.Home 'work/*/*/repo/examples/bash/pwned') | Should -BeFalse
    }

    It 'passes -NameToPrint through to a PowerShell script' {
        Push-Location (Join-Path $world.Checkout 'examples/powershell')
        try {
            $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'ps' -OutputDir 'ps' hello.ps1 -NameToPrint "O'Brien; rm -rf ~" -Wait
        } finally { Pop-Location }
        $run.ScriptArguments | Should -Be @('-NameToPrint', "O'Brien; rm -rf ~")
        ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain "Hello, O'Brien; rm -rf ~!"
    }

    It 'passes GNU-style --name-to-print words in order' {
        $script = "#!/usr/bin/env bash`nprintf '<%s>' `"`$@`"; echo`n"
        Add-TestCommit -World $world -Path 'examples/bash/args.sh' -Content $script -Executable | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        try {
            $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'gnu' -OutputDir 'gnu' args.sh --name-to-print x '' 'a b' -Wait
        } finally { Pop-Location }
        $run.ScriptArguments | Should -Be @('--name-to-print', 'x', '', 'a b')
        ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain '<--name-to-print><x><><a b>'
    }
}

Describe 'Submit-Analysis refuses what policy does not allow, and leaves nothing behind' {
    BeforeAll {
        $world = New-TestWorld -StandardMembers @('tester@example.org') -FullMembers @()
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        function Submit-Refused([hashtable] $Extra) {
            $p = @{ Dataset = 'fewgenomes'; AccessLevel = 'test'; Description = 'x'; OutputDir = 'out'; Script = 'hello.sh'; ScriptArguments = @('me') }
            foreach ($k in $Extra.Keys) { $p[$k] = $Extra[$k] }
            $err = $null
            Submit-Analysis @p -Force -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
            $err
        }
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'refuses <Case> with <ErrorId>' -ForEach @(
        @{ Case = 'an unknown dataset'; Extra = @{ Dataset = 'nogenomes' }; ErrorId = 'DatasetNotFound'; Category = 'ObjectNotFound'; Target = 'nogenomes' }
        @{ Case = 'a dataset the user is not a member of'; Extra = @{ Dataset = 'othergenomes' }; ErrorId = 'NotAMember'; Category = 'PermissionDenied'; Target = 'tester@example.org' }
        @{ Case = 'access level full without membership'; Extra = @{ AccessLevel = 'full' }; ErrorId = 'NotAMember'; Category = 'PermissionDenied'; Target = 'tester@example.org' }
        @{ Case = 'a gs:// output dir'; Extra = @{ OutputDir = 'gs://cpg-fewgenomes-main/x' }; ErrorId = 'InvalidOutputDir'; Category = 'InvalidArgument'; Target = 'gs://cpg-fewgenomes-main/x' }
        @{ Case = 'an absolute output dir'; Extra = @{ OutputDir = '/etc' }; ErrorId = 'InvalidOutputDir'; Category = 'InvalidArgument'; Target = '/etc' }
        @{ Case = 'an output dir with ..'; Extra = @{ OutputDir = 'a/../../b' }; ErrorId = 'InvalidOutputDir'; Category = 'InvalidArgument'; Target = 'a/../../b' }
        @{ Case = 'an image outside the allowlist for standard'; Extra = @{ AccessLevel = 'standard'; Image = 'docker.io/evil/image:latest' }; ErrorId = 'ImageNotAllowed'; Category = 'PermissionDenied'; Target = 'docker.io/evil/image:latest' }
        @{ Case = 'memory that is not a size'; Extra = @{ Memory = '10XB' }; ErrorId = 'InvalidMemory'; Category = 'InvalidArgument'; Target = '10XB' }
        @{ Case = 'more cpu than the executor has'; Extra = @{ Cpu = '64' }; ErrorId = 'ResourcesExceedExecutor'; Category = 'LimitsExceeded'; Target = $null }
        @{ Case = '-Repository without -Commit'; Extra = @{ Repository = 'populationgenomics/analysis-runner' }; ErrorId = 'CommitRequired'; Category = 'InvalidArgument'; Target = 'populationgenomics/analysis-runner' }
        @{ Case = 'a commit that does not exist'; Extra = @{ Commit = 'deadbeef' }; ErrorId = 'CommitNotFound'; Category = 'ObjectNotFound'; Target = 'deadbeef' }
        @{ Case = 'a script that is not there'; Extra = @{ Script = 'nope.sh' }; ErrorId = 'ScriptNotFound'; Category = 'ObjectNotFound'; Target = 'nope.sh' }
    ) {
        $err = Submit-Refused $Extra
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId*"
        $err[0].CategoryInfo.Category | Should -Be $Category
        if ($Target) { $err[0].TargetObject | Should -Be $Target }
        $err[0].Exception.Message | Should -Not -BeNullOrEmpty
        $footprint = Get-TestFootprint $world
        $footprint.Configs | Should -Be 0
        $footprint.LogRows | Should -Be 0
        $footprint.Batches | Should -Be 0
        $footprint.WorkFolders | Should -Be 0
    }

    It 'refuses a repository that is not on the allowlist, naming the registry entry to add' {
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @('populationgenomics/analysis-runner')
        try {
            $err = Submit-Refused @{}
            $err[0].FullyQualifiedErrorId | Should -BeLike 'RepositoryNotAllowed*'
            $err[0].TargetObject | Should -Be $world.Origin
            $err[0].Exception.Message | Should -Match 'datasets\.fewgenomes'
            (Get-TestFootprint $world).Configs | Should -Be 0
        } finally {
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -Repositories @($world.Origin)
        }
    }

    It 'refuses a look-alike repository name (<Name>)' -ForEach @(
        @{ Name = 'suffix' }, @{ Name = 'case' }
    ) {
        $alike = if ($Name -eq 'suffix') { $world.Origin + '.evil' } else { $world.Origin.ToUpperInvariant() }
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($alike)
        try {
            (Submit-Refused @{})[0].FullyQualifiedErrorId | Should -BeLike 'RepositoryNotAllowed*'
        } finally {
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -Repositories @($world.Origin)
        }
    }

    It 'refuses standard for a commit that is not on main' {
        Invoke-Git -C $world.Checkout checkout -q -b side | Out-Null
        try {
            Add-TestCommit -World $world -Path 'examples/bash/side.txt' -Content 'side' | Out-Null
            $err = Submit-Refused @{ AccessLevel = 'standard' }
            $err[0].FullyQualifiedErrorId | Should -BeLike 'CommitNotOnMain*'
            $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            (Get-TestFootprint $world).LogRows | Should -Be 0
        } finally {
            Invoke-Git -C $world.Checkout checkout -q main | Out-Null
        }
    }

    It 'refuses a script that is neither executable nor has a shebang, suggesting the line to add' {
        Add-TestCommit -World $world -Path 'examples/bash/plain.sh' -Content 'echo plain' | Out-Null
        $err = Submit-Refused @{ Script = 'plain.sh' }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ScriptNotExecutable*'
        $err[0].Exception.Message | Should -Match '#!/usr/bin/env bash'
        (Get-TestFootprint $world).Configs | Should -Be 0
    }

    It 'refuses a user config that sets <Key>, naming the key and the file' -ForEach @(
        @{ Key = 'workflow.access_level'; Toml = "[workflow]`naccess_level = 'full'" }
        @{ Key = 'workflow.dataset'; Toml = "[workflow]`ndataset = 'othergenomes'" }
        @{ Key = 'workflow.user'; Toml = "[workflow]`nuser = 'someone-else@example.org'" }
        @{ Key = 'workflow.commit'; Toml = "[workflow]`ncommit = '0000000000000000000000000000000000000000'" }
        @{ Key = 'workflow.repository'; Toml = "[workflow]`nrepository = 'evil/repo'" }
        @{ Key = 'workflow.output_prefix'; Toml = "[workflow]`noutput_prefix = '../../etc'" }
        @{ Key = 'workflow.ar_guid'; Toml = "[workflow]`nar_guid = 'another-run'" }
        @{ Key = 'workflow.driver_image'; Toml = "[workflow]`ndriver_image = 'docker.io/evil/image'" }
        @{ Key = 'storage'; Toml = "[storage.default]`ndefault = 'gs://cpg-fewgenomes-main'" }
        @{ Key = 'storage'; Toml = "[storage.othergenomes]`ntmp = 'gs://cpg-othergenomes-main-tmp'" }
        @{ Key = 'hail.bucket'; Toml = "[hail]`nbucket = 'gs://cpg-othergenomes-main-tmp'" }
    ) {
        $file = Join-Path $world.Root "protected-$Key.toml"
        Set-Content $file $Toml
        $err = Submit-Refused @{ Config = @($file) }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ProtectedConfigKey*'
        $err[0].Exception.Message | Should -Match "'$([regex]::Escape($Key))'"
        $err[0].Exception.Message | Should -Match ([regex]::Escape("protected-$Key.toml"))
        (Get-TestFootprint $world).Configs | Should -Be 0
    }
}

Describe 'Submit-Analysis config merging, -WhatIf and warnings' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $a = Join-Path $world.Root 'a.toml'
        $b = Join-Path $world.Root 'b.toml'
        Set-Content $a "[workflow]`nsequencing_type = 'exome'`nlabel = 'from-a'`n[custom]`nx = 1`nlist = [1, 2, 3]`n[custom.nested]`nkeep = 'a'"
        Set-Content $b "[workflow]`nlabel = 'from-b'`n[custom]`nlist = [9]`n[custom.nested]`nadd = 'b'"
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'merges user configs left to right over the baseline: tables key by key, arrays replaced' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'merge' -OutputDir 'm' -Config $a, $b hello.sh me
        $config = Get-CpgConfig -Path $run.ConfigPath
        $config.workflow.label | Should -Be 'from-b'
        $config.workflow.sequencing_type | Should -Be 'exome'
        $config.workflow.dataset | Should -Be 'fewgenomes'
        $config.custom.x | Should -Be 1
        $config.custom.list | Should -Be @(9)
        $config.custom.nested.keep | Should -Be 'a'
        $config.custom.nested.add | Should -Be 'b'
        $config.references.genome_build | Should -Be 'GRCh38'   # from the runner's template
        $run.ConfigFiles | Should -Be @($a, $b)
    }

    It 'shows the checks, merged config and driver job with -WhatIf, and writes nothing' {
        $before = Get-TestFootprint $world
        $plan = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'whatif' -OutputDir 'w' -Config $a hello.sh "it's me" -WhatIf
        $plan | Should -BeOfType ([AnalysisRunner.Core.Runs.RunPlan])
        $plan.Checks.Rule | Should -Contain 'RepositoryAllowlist'
        ($plan.Checks | Where-Object { -not $_.Passed }) | Should -BeNullOrEmpty
        $plan.ConfigToml | Should -Match 'label = "from-a"'
        $plan.DriverCommand | Should -Be "./hello.sh 'it'\''s me'"
        $after = Get-TestFootprint $world
        $after.Configs | Should -Be $before.Configs
        $after.LogRows | Should -Be $before.LogRows
        $after.Batches | Should -Be $before.Batches
    }

    It 'writes, byte for byte, the config -WhatIf showed (but for the run''s own ar-guid)' {
        $plan = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'same' -OutputDir 's' -Config $a, $b hello.sh me -WhatIf
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'same' -OutputDir 's' -Config $a, $b hello.sh me
        $run.ArGuid | Should -Not -Be $plan.Run.ArGuid
        [IO.File]::ReadAllText($run.ConfigPath) | Should -BeExactly $plan.ConfigToml.Replace($plan.Run.ArGuid, $run.ArGuid)
    }

    It 'shows a refused check in the -WhatIf plan instead of writing' {
        $plan = Submit-Analysis -Dataset othergenomes -AccessLevel test -Description 'whatif' -OutputDir 'w' hello.sh me -WhatIf
        $plan.Refusal.ErrorId | Should -Be 'NotAMember'
        ($plan.Checks | Where-Object Rule -eq 'Membership').Passed | Should -BeFalse
    }

    It 'warns about a dirty working tree' {
        Set-Content (Join-Path $world.Checkout 'examples/bash/untracked.txt') 'x'
        try {
            $warnings = $null
            Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'dirty' -OutputDir 'd' hello.sh me -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
            ($warnings | Out-String) | Should -Match 'uncommitted changes'
        } finally { Remove-Item (Join-Path $world.Checkout 'examples/bash/untracked.txt') }
    }

    It 'resolves -Commit HEAD and a short sha to the full sha' {
        $short = $world.Commit.Substring(0, 8)
        (Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'c' -OutputDir 'c' -Commit HEAD hello.sh me -WhatIf).Run.Commit | Should -Be $world.Commit
        (Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'c' -OutputDir 'c' -Commit $short hello.sh me -WhatIf).Run.Commit | Should -Be $world.Commit
    }

    It 'warns (also under -WhatIf) about a commit origin may not have, and -Force skips the question' {
        $sha = Add-TestCommit -World $world -Path 'examples/bash/local-only.txt' -Content 'x' -NoPush
        # Pushed by URL, so the checkout's origin refs still say it is not there: only the client thinks so.
        Invoke-Git -C $world.Checkout push -q $world.Origin HEAD:main | Out-Null
        $warnings = $null
        $plan = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'unpushed' -OutputDir 'u' hello.sh me -WhatIf -WarningVariable warnings -WarningAction SilentlyContinue
        ($warnings | Out-String) | Should -Match "$($sha.Substring(0, 12)) is not on any branch of origin"
        $plan.CommitMissingFromOrigin | Should -BeTrue
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'unpushed' -OutputDir 'u' hello.sh me -Force -WarningAction SilentlyContinue
        $run.Commit | Should -Be $sha
        Invoke-Git -C $world.Checkout fetch -q origin | Out-Null
    }

    It 'refuses, even with -Force, a commit the remote does not have, and writes nothing' {
        $before = Get-TestFootprint $world
        $sha = Add-TestCommit -World $world -Path 'examples/bash/never-pushed.txt' -Content 'x' -NoPush
        try {
            $err = $null
            Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'x' -OutputDir 'x' hello.sh me -Force -WarningAction SilentlyContinue -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
            $err[0].FullyQualifiedErrorId | Should -BeLike 'CommitNotFound*'
            $err[0].TargetObject | Should -Be $sha
            $after = Get-TestFootprint $world
            $after.Configs | Should -Be $before.Configs
            $after.LogRows | Should -Be $before.LogRows
            $after.Batches | Should -Be $before.Batches
        } finally {
            Invoke-Git -C $world.Checkout reset -q --hard HEAD~1 | Out-Null
        }
    }

    It 'uses the main buckets for <Level> (full confirmed with <How>)' -ForEach @(
        @{ Level = 'standard'; How = 'nothing to confirm'; Extra = @{} }
        @{ Level = 'full'; How = '-Confirm:$false'; Extra = @{ Confirm = $false } }
        @{ Level = 'full'; How = '-Force'; Extra = @{ Force = $true } }
    ) {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel $Level -Description 'main' -OutputDir 'main-out' hello.sh me @Extra
        $run.AccessLevel | Should -Be $Level
        $run.OutputDir | Should -BeLike '*cpg-fewgenomes-main/main-out'
        (Get-CpgConfig -Path $run.ConfigPath).storage.default.tmp | Should -BeLike '*cpg-fewgenomes-main-tmp'
    }

    It 'runs a command without checking out the repository with -SkipRepoCheckout, still recording (and checking) repository and commit' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'skip' -OutputDir 's' -SkipRepoCheckout echo 'no checkout here' -Wait
        $run.Repository | Should -Be $world.Origin
        $run.Commit | Should -Not -BeNullOrEmpty
        $run.SkipRepoCheckout | Should -BeTrue
        ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain 'no checkout here'
        Test-Path (Join-Path $world.Home "work/$($run.DriverBatchId)/1/repo") | Should -BeFalse
    }

    It 'records resources and environment and gives them to the driver' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'env' -OutputDir 'e' -Cpu 1 -Memory 2Gi -Environment @{ GREETING = 'hi there' } `
            -Wait -SkipRepoCheckout -- bash -c 'echo "$GREETING|$CPG_CONFIG_PATH"'
        $run.Memory | Should -Be '2Gi'
        $run.Cpu | Should -Be 1
        $run.Environment['GREETING'] | Should -Be 'hi there'
        ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain "hi there|$($run.ConfigPath)"
    }
}

Describe 'Re-running from the audit log' {
    BeforeAll {
        $world = New-TestWorld
        $configFile = Join-Path $world.Root 'user.toml'
        Set-Content $configFile "[custom]`nvalue = 'first'"
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $first = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'original' -OutputDir 'r' -Config $configFile -Memory 2Gi hello.sh "O'Brien" -Wait
        Pop-Location
        # Move on: new commit, changed config file, somewhere else entirely.
        Add-TestCommit -World $world -Path 'examples/bash/later.txt' -Content 'later' | Out-Null
        Set-Content $configFile "[custom]`nvalue = 'changed'"
        Push-Location $world.Root       # the re-runner is whoever submits now (this OS account), wherever they stand
        $again = Get-AnalysisLog -Dataset fewgenomes -First 1 | Submit-Analysis -Wait
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'submits a new run with a new ArGuid' {
        $again.ArGuid | Should -Not -Be $first.ArGuid
        $again.RerunOf | Should -Be $first.ArGuid
    }

    It 'uses the same repository, commit, cwd, script, arguments and resources' {
        foreach ($p in 'Repository', 'Commit', 'Cwd', 'Script', 'Dataset', 'AccessLevel', 'Description', 'OutputPrefix', 'Memory') {
            $again.$p | Should -Be $first.$p -Because $p
        }
        $again.ScriptArguments | Should -Be $first.ScriptArguments
    }

    It 'merges the config text as first submitted' {
        (Get-CpgConfig -Path $again.ConfigPath).custom.value | Should -Be 'first'
    }

    It 'runs it again' {
        ($again | Get-BatchJob | Get-BatchJobLog) | Should -Contain "Hello, O'Brien!"
    }
}

Describe 'Another pwsh session' -Tag Slow {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'shared' -OutputDir 'x' hello.sh other -Wait
        Pop-Location
    }
    AfterAll { Remove-TestWorld $world }

    It 'imports the module in a fresh pwsh -NoProfile and sees the batch, its log and the audit log' {
        $pwsh = (Get-Process -Id $PID).Path
        $prefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        $command = "Import-Module AnalysisRunner; `$b = Get-Batch -Id $($run.DriverBatchId); `$b.State; `$b | Get-BatchJob | Get-BatchJobLog; (Get-AnalysisLog -First 1).ArGuid; (Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description w -OutputDir w -WhatIf hello.sh x).Run.Commit"
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        try { $output = & $pwsh @prefix -NoProfile -NonInteractive -Command $command 2>&1 } finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
        $output | Should -Contain 'Succeeded'
        $output | Should -Contain 'Hello, other!'
        $output | Should -Contain $run.ArGuid
        $output | Should -Contain $world.Commit
    }
}
