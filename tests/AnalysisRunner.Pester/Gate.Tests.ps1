# The gate as a hostile user would try it (issue 13): every refusal names its ErrorId and leaves
# nothing behind (configs, log rows, batches, bucket objects).

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    function Submit-Hostile([hashtable] $Parameters) {
        $p = @{ Dataset = 'fewgenomes'; AccessLevel = 'test'; Description = 'x'; OutputDir = 'out'; Script = 'hello.sh'; ScriptArguments = @('me') }
        foreach ($k in $Parameters.Keys) { $p[$k] = $Parameters[$k] }
        $err = $null
        Submit-Analysis @p -Force -ErrorAction SilentlyContinue -ErrorVariable err -WarningAction SilentlyContinue | Out-Null
        $err
    }

    function Assert-NothingWritten($World, $Before) {
        $after = Get-TestFootprint $World
        $after.Configs | Should -Be $Before.Configs
        $after.LogRows | Should -Be $Before.LogRows
        $after.Batches | Should -Be $Before.Batches
    }

    # Every file of the runner home (database included) that holds $Text; the executor's lock and socket hold no data.
    function Find-TestSecret($World, [string] $Text) {
        Get-ChildItem -Recurse -File $World.Home | Where-Object { $_.Name -notlike '*.lock' -and $_.Name -notlike '*.sock' } |
            Where-Object { [IO.File]::ReadAllText($_.FullName) -match [regex]::Escape($Text) } | ForEach-Object FullName
    }

    # Commits a symbolic link into the checkout (and pushes it).
    function Add-TestLink($World, [string] $Path, [string] $Target) {
        $full = Join-Path $World.Checkout $Path
        New-Item -ItemType Directory -Force (Split-Path $full) | Out-Null
        New-Item -ItemType SymbolicLink -Path $full -Target $Target | Out-Null
        Invoke-Git -C $World.Checkout add -A | Out-Null
        Invoke-Git -C $World.Checkout commit -q -m "link $Path" | Out-Null
        Invoke-Git -C $World.Checkout push -q origin HEAD | Out-Null
    }
}

Describe 'What runs is the commit' {
    BeforeAll {
        $world = New-TestWorld
        Add-TestLink $world 'examples/bash/link.sh' '/bin/echo'
        Add-TestLink $world 'examples/bash/inside-link.sh' 'hello.sh'
        Add-TestLink $world 'examples/bin' '/usr/bin'
        Add-TestLink $world 'examples/bash-alias' 'bash'
        Add-TestCommit -World $world -Path 'examples/bash/plain.sh' -Content "echo plain`n" | Out-Null
        Add-TestCommit -World $world -Path 'examples/bash/by-shebang.sh' -Content "#!/usr/bin/env bash`necho from the commit`n" | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/bash')
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'refuses <Case> with <ErrorId>, naming the path, and writes nothing' -ForEach @(
        @{ Case = 'a path climbing out of the repository'; Script = '../../../../../../bin/echo'; ErrorId = 'ScriptOutsideRepository' }
        @{ Case = 'a path climbing out and back'; Script = '../../../checkout/examples/bash/hello.sh'; ErrorId = 'ScriptOutsideRepository' }
        @{ Case = 'an absolute path'; Script = '/bin/echo'; ErrorId = 'ScriptPathAbsolute' }
        @{ Case = 'a home-relative path'; Script = '~/evil.sh'; ErrorId = 'ScriptPathAbsolute' }
        @{ Case = 'a committed symlink out of the repository'; Script = 'link.sh'; ErrorId = 'ScriptIsSymlink' }
        @{ Case = 'a committed symlink inside the repository'; Script = 'inside-link.sh'; ErrorId = 'ScriptIsSymlink' }
        @{ Case = 'a committed symlinked folder on the way'; Script = '../bin/id'; ErrorId = 'ScriptIsSymlink' }
        @{ Case = 'a folder'; Script = '..'; ErrorId = 'ScriptNotAFile' }
        @{ Case = 'a file that is not in the commit'; Script = 'nope.sh'; ErrorId = 'ScriptNotFound' }
    ) {
        $before = Get-TestFootprint $world
        $err = Submit-Hostile @{ Script = $Script }
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId*"
        $err[0].TargetObject | Should -Be $Script
        Assert-NothingWritten $world $before
    }

    It 'refuses a -Cwd that is a symlinked folder of the commit' {
        $before = Get-TestFootprint $world
        $err = Submit-Hostile @{ Cwd = 'examples/bash-alias' }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'CwdIsSymlink*'
        Assert-NothingWritten $world $before
    }

    It 'shows the refusal in -WhatIf, with the ScriptInCommit check failed' {
        $plan = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description x -OutputDir o -WhatIf '../../../../../../bin/echo' -WarningAction SilentlyContinue
        $plan.Refusal.ErrorId | Should -Be 'ScriptOutsideRepository'
        ($plan.Checks | Where-Object Rule -eq 'ScriptInCommit').Passed | Should -BeFalse
        ($plan.Checks | Where-Object Rule -eq 'ScriptInCommit').Detail | Should -Match 'climbs out'
    }

    It 'refuses an untracked executable script' {
        $before = Get-TestFootprint $world
        Set-Content (Join-Path $world.Checkout 'examples/bash/untracked.sh') "#!/bin/bash`necho untracked"
        chmod +x (Join-Path $world.Checkout 'examples/bash/untracked.sh')
        try {
            (Submit-Hostile @{ Script = 'untracked.sh' })[0].FullyQualifiedErrorId | Should -BeLike 'ScriptNotFound*'
            Assert-NothingWritten $world $before
        } finally { Remove-Item (Join-Path $world.Checkout 'examples/bash/untracked.sh') }
    }

    It 'takes the mode from the commit: an uncommitted chmod +x does not make plain.sh runnable' {
        $before = Get-TestFootprint $world
        chmod +x (Join-Path $world.Checkout 'examples/bash/plain.sh')
        try {
            (Submit-Hostile @{ Script = 'plain.sh' })[0].FullyQualifiedErrorId | Should -BeLike 'ScriptNotExecutable*'
            Assert-NothingWritten $world $before
        } finally { chmod -x (Join-Path $world.Checkout 'examples/bash/plain.sh') }
    }

    It 'takes the #! line from the commit: an uncommitted shebang does not make plain.sh runnable' {
        $before = Get-TestFootprint $world
        Set-Content (Join-Path $world.Checkout 'examples/bash/plain.sh') "#!/bin/bash`necho plain"
        try {
            (Submit-Hostile @{ Script = 'plain.sh' })[0].FullyQualifiedErrorId | Should -BeLike 'ScriptNotExecutable*'
            Assert-NothingWritten $world $before
        } finally { Invoke-Git -C $world.Checkout checkout -- examples/bash/plain.sh | Out-Null }
    }

    It 'runs the committed first line even when the working tree says otherwise' {
        Set-Content (Join-Path $world.Checkout 'examples/bash/by-shebang.sh') "#!/bin/false`necho from the working tree"
        try {
            $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'shebang' -OutputDir 's' by-shebang.sh -Wait -WarningAction SilentlyContinue
            ($run | Get-BatchJob).State | Should -Be 'Succeeded'
            ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain 'from the commit'
        } finally { Invoke-Git -C $world.Checkout checkout -- examples/bash/by-shebang.sh | Out-Null }
    }

    It 'runs a script reached with .. that stays inside the repository' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'up and down' -OutputDir 'u' ../bash/hello.sh inside -Wait
        ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain 'Hello, inside!'
    }
}

Describe 'Who is calling, and what they may do' {
    BeforeAll {
        $world = New-TestWorld -StandardMembers @('tester@example.org') -FullMembers @()
        Push-Location (Join-Path $world.Checkout 'examples/bash')
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'is the OS account as the settings map it, not the git user.email of the folder' {
        Invoke-Git -C $world.Checkout config user.email 'mallory@example.org' | Out-Null
        try {
            $plan = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description w -OutputDir w hello.sh me -WhatIf
            $plan.Run.User | Should -Be 'tester@example.org'
            $plan.Refusal | Should -BeNullOrEmpty
        } finally { Invoke-Git -C $world.Checkout config user.email 'tester@example.org' | Out-Null }
    }

    It 'cannot claim a member''s email through git config when the settings say otherwise' {
        $before = Get-TestFootprint $world
        Set-TestIdentity -World $world -Email 'mallory@example.org'
        try {
            $err = Submit-Hostile @{}
            $err[0].FullyQualifiedErrorId | Should -BeLike 'NotAMember*'
            $err[0].TargetObject | Should -Be 'mallory@example.org'
            Assert-NothingWritten $world $before
        } finally { Set-TestIdentity -World $world -Email 'tester@example.org' }
    }

    It 'compares emails without case' {
        Set-TestIdentity -World $world -Email 'TESTER@Example.org'
        try {
            (Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description w -OutputDir w hello.sh me -WhatIf).Refusal | Should -BeNullOrEmpty
        } finally { Set-TestIdentity -World $world -Email 'tester@example.org' }
    }

    It 'refuses an unknown or malformed dataset first, with DatasetNotFound naming the known ones (also under -WhatIf): <Dataset>' -ForEach @(
        @{ Dataset = 'Few Genomes' }, @{ Dataset = '../fewgenomes' }, @{ Dataset = 'FEWGENOMES' }, @{ Dataset = 'nogenomes' }
    ) {
        $before = Get-TestFootprint $world
        $err = Submit-Hostile @{ Dataset = $Dataset; OutputDir = '/etc' }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DatasetNotFound*'
        $err[0].Exception.Message | Should -Match 'known datasets: fewgenomes, othergenomes'
        $err = $null
        Submit-Analysis -Dataset $Dataset -AccessLevel test -Description x -OutputDir o hello.sh -WhatIf -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DatasetNotFound*'
        Assert-NothingWritten $world $before
    }

    It 'checks the registry''s default image like an explicit one' {
        $before = Get-TestFootprint $world
        $registry = Join-Path $world.Home 'registry.toml'
        $saved = Get-Content -Raw $registry
        Set-Content $registry ($saved -replace 'default_image = "registry.example.org/approved/driver:latest"', 'default_image = "docker.io/evil/driver:latest"')
        try {
            $err = Submit-Hostile @{ AccessLevel = 'standard' }
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ImageNotAllowed*'
            $err[0].TargetObject | Should -Be 'docker.io/evil/driver:latest'
            Assert-NothingWritten $world $before
        } finally { Set-Content $registry $saved -NoNewline }
    }

    It 'refuses -SkipRepoCheckout at standard unless the dataset allows it' {
        $before = Get-TestFootprint $world
        $err = Submit-Hostile @{ AccessLevel = 'standard'; SkipRepoCheckout = $true; Script = 'cat'; ScriptArguments = @('/etc/passwd') }
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SkipRepoCheckoutNotAllowed*'
        Assert-NothingWritten $world $before

        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -Repositories @($world.Origin) -Extra 'allow_skip_repo_checkout = true'
        try {
            $run = Submit-Analysis -Dataset fewgenomes -AccessLevel standard -Description 'allowed' -OutputDir 's' -SkipRepoCheckout echo allowed -Wait
            ($run | Get-BatchJob | Get-BatchJobLog) | Should -Contain 'allowed'
        } finally {
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -Repositories @($world.Origin)
        }
    }

    It 'keeps the allowlist and commit-on-main checks with -SkipRepoCheckout' {
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -Repositories @($world.Origin) -Extra 'allow_skip_repo_checkout = true'
        Invoke-Git -C $world.Checkout checkout -q -b skip-side | Out-Null
        try {
            Add-TestCommit -World $world -Path 'examples/bash/skip-side.txt' -Content 'side' | Out-Null
            $before = Get-TestFootprint $world
            (Submit-Hostile @{ AccessLevel = 'standard'; SkipRepoCheckout = $true; Script = 'true' })[0].FullyQualifiedErrorId | Should -BeLike 'CommitNotOnMain*'
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @('/somewhere/else.git') -Extra 'allow_skip_repo_checkout = true'
            (Submit-Hostile @{ SkipRepoCheckout = $true; Script = 'true' })[0].FullyQualifiedErrorId | Should -BeLike 'RepositoryNotAllowed*'
            Assert-NothingWritten $world $before
        } finally {
            Invoke-Git -C $world.Checkout checkout -q main | Out-Null
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -Repositories @($world.Origin)
        }
    }

    It 'refuses -Environment that sets the runner''s own variables (<Name>)' -ForEach @(
        @{ Name = 'AR_RUN_TOKEN' }, @{ Name = 'CPG_CONFIG_PATH' }, @{ Name = 'AR_HOME' }
    ) {
        $before = Get-TestFootprint $world
        (Submit-Hostile @{ Environment = @{ $Name = 'x' } })[0].FullyQualifiedErrorId | Should -BeLike 'ReservedEnvironmentVariable*'
        Assert-NothingWritten $world $before
    }
}

Describe 'Confirmations default to No' -Tag Slow {
    BeforeAll {
        $world = New-TestWorld
        $folder = Join-Path $world.Checkout 'examples/bash'
    }
    AfterAll { Remove-TestWorld $world }

    It 'a non-interactive host gets ConfirmationRequired for full, saying to pass -Force, and nothing is written' {
        $before = Get-TestFootprint $world
        $result = Invoke-TestPwsh -NonInteractive -Command "Set-Location '$folder'; Import-Module AnalysisRunner; Submit-Analysis -Dataset fewgenomes -AccessLevel full -Description x -OutputDir o hello.sh me -ErrorAction Stop"
        $result.ExitCode | Should -Not -Be 0
        ($result.Output -join "`n") | Should -Match 'ConfirmationRequired|-Force'
        Assert-NothingWritten $world $before
    }

    It 'an interactive answer of just Enter is No' {
        $before = Get-TestFootprint $world
        $result = Invoke-TestPwsh -InputText '' -Command "Set-Location '$folder'; Import-Module AnalysisRunner; Submit-Analysis -Dataset fewgenomes -AccessLevel full -Description x -OutputDir o hello.sh me; 'done'"
        ($result.Output -join "`n") | Should -Match 'default is "N"'
        Assert-NothingWritten $world $before
    }

    It 'a non-interactive host gets ConfirmationRequired for a commit origin may not have' {
        $sha = Add-TestCommit -World $world -Path 'examples/bash/ask.txt' -Content 'x' -NoPush
        Invoke-Git -C $world.Checkout push -q $world.Origin HEAD:main | Out-Null
        try {
            $before = Get-TestFootprint $world
            $result = Invoke-TestPwsh -NonInteractive -Command "Set-Location '$folder'; Import-Module AnalysisRunner; try { Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description x -OutputDir o hello.sh me -ErrorAction Stop -WarningAction SilentlyContinue } catch { `$_.FullyQualifiedErrorId }"
            $result.Output | Should -Contain 'ConfirmationRequired,AnalysisRunner.PowerShell.Commands.SubmitAnalysisCommand'
            Assert-NothingWritten $world $before
        } finally { Invoke-Git -C $world.Checkout fetch -q origin | Out-Null }
    }
}

Describe 'Secrets never stored' {
    BeforeAll {
        $world = New-TestWorld
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($world.Origin, 'https://git.example.invalid/org/repo.git')
        Push-Location (Join-Path $world.Checkout 'examples/bash')
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'strips credentials from an origin URL before any message, plan or row' {
        Invoke-Git -C $world.Checkout remote set-url origin 'https://tester:s3cr3t-token@git.example.invalid/org/repo.git' | Out-Null
        try {
            $before = Get-TestFootprint $world
            $plan = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description x -OutputDir o hello.sh -WhatIf -ErrorAction SilentlyContinue -ErrorVariable whatIfErr -WarningAction SilentlyContinue
            $err = Submit-Hostile @{}
            $err[0].FullyQualifiedErrorId | Should -BeLike 'RepositoryUnreachable*'
            ($err | Out-String) + ($whatIfErr | Out-String) + ($plan | ConvertTo-Json -Depth 8) | Should -Not -Match 's3cr3t'
            "$($err[0].TargetObject)" | Should -Not -Match 's3cr3t'
            Assert-NothingWritten $world $before
            Find-TestSecret $world 's3cr3t' | Should -BeNullOrEmpty
        } finally { Invoke-Git -C $world.Checkout remote set-url origin $world.Origin | Out-Null }
    }

    It 'runs from an origin whose URL carries a password, and the password is nowhere in the home or the output' {
        $fileUrl = "file://$($world.Origin)"
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($fileUrl)
        Invoke-Git -C $world.Checkout remote set-url origin "file://tester:s3cr3t-token@$($world.Origin)" | Out-Null
        try {
            $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'secret origin' -OutputDir 's' hello.sh secret -Wait -WarningAction SilentlyContinue
            $run.Repository | Should -Be $fileUrl
            $jobs = $run | Get-BatchJob
            $jobs.State | Should -Be 'Succeeded'
            ($jobs | Get-BatchJobLog) | Should -Contain 'Hello, secret!'
            ($run | Format-List * | Out-String) + ($jobs | Format-List * | Out-String) + (Get-AnalysisLog | Format-List * | Out-String) | Should -Not -Match 's3cr3t'
            Find-TestSecret $world 's3cr3t' | Should -BeNullOrEmpty
        } finally {
            Invoke-Git -C $world.Checkout remote set-url origin $world.Origin | Out-Null
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($world.Origin, 'https://git.example.invalid/org/repo.git')
        }
    }

    It 'strips credentials from -Repository too' {
        $err = Submit-Hostile @{ Repository = 'https://u:s3cr3t-token@git.example.invalid/org/repo.git'; Commit = 'main' }
        ($err | Out-String) | Should -Not -Match 's3cr3t'
        "$($err[0].TargetObject)" | Should -Not -Match 's3cr3t'
    }
}

Describe 'The audit log is tamper-evident' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $first = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'first' -OutputDir 'a' hello.sh one
        $second = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'second' -OutputDir 'b' hello.sh two
        $third = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'third' -OutputDir 'c' hello.sh three
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'verifies an untouched log and reports its head' {
        $check = Test-AnalysisLog
        $check.Valid | Should -BeTrue
        $check.Entries | Should -Be 3
        $check.HeadHash | Should -Be (Get-AnalysisLog -First 1).EntryHash
    }

    It 'a re-run of an untouched entry takes its facts from the log, not from the piped object' {
        # A copy of the run with other facts, as a caller could pipe in: only its ArGuid may count.
        $edited = $first.GetType().GetMethod('<Clone>$').Invoke($first, @())
        $edited.GetType().GetProperty('Script').SetValue($edited, '/bin/sh')
        $edited.GetType().GetProperty('AccessLevel').SetValue($edited, [AnalysisRunner.Core.AccessLevel]::Full)
        $again = $edited | Submit-Analysis -WhatIf
        $again.Run.Script | Should -Be 'hello.sh'
        $again.Run.AccessLevel | Should -Be 'Test'
        $again.Run.RerunOf | Should -Be $first.ArGuid
    }

    It 'names the first altered entry after a row is edited, and refuses to re-run from it or after it' {
        Set-TestAuditRow -World $world -ArGuid $second.ArGuid -Column 'access_level' -Value 'full'
        $check = Test-AnalysisLog
        $check.Valid | Should -BeFalse
        $check.FirstAlteredPosition | Should -Be 2
        $check.FirstAlteredArGuid | Should -Be $second.ArGuid
        $check.Reason | Should -Match 'contents changed'

        $before = Get-TestFootprint $world
        foreach ($entry in $second, $third) {
            $err = $null
            Get-AnalysisLog -ArGuid $entry.ArGuid | Submit-Analysis -Force -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
            $err[0].FullyQualifiedErrorId | Should -BeLike 'AuditChainBroken*'
            $err[0].TargetObject | Should -Be $second.ArGuid
        }
        Assert-NothingWritten $world $before
        (Get-AnalysisLog -ArGuid $first.ArGuid | Submit-Analysis -WhatIf).Refusal | Should -BeNullOrEmpty
    }
}

Describe 'A run''s scope is the capability the runner gave its jobs' {
    BeforeAll {
        # tester may use fewgenomes at every level: what stops a test run's job is its run, not its user.
        $world = New-TestWorld -FullMembers @('tester@example.org')
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -FullMembers 'tester@example.org' `
            -OtherTestMembers 'tester@example.org' -Repositories @($world.Origin)
        Add-TestCommit -World $world -Path 'examples/attack/widen.ps1' -Content @'
Import-Module AnalysisRunner
function Attempt([string] $Name, [scriptblock] $Action) {
    try { & $Action | Out-Null; "${Name}: allowed" } catch { "${Name}: " + $_.FullyQualifiedErrorId.Split(',')[0] }
}
Set-Content f.txt 'x'
Attempt 'own' { Copy-StorageItem f.txt gs://cpg-fewgenomes-test/widen/own.txt -ErrorAction Stop }
Attempt 'main' { Copy-StorageItem f.txt gs://cpg-fewgenomes-main/widen/a.txt -ErrorAction Stop }
Attempt 'standard' { Copy-StorageItem f.txt gs://cpg-fewgenomes-main/widen/b.txt -Dataset fewgenomes -AccessLevel standard -ErrorAction Stop }
Attempt 'full' { Copy-StorageItem f.txt gs://cpg-fewgenomes-main/widen/c.txt -AccessLevel full -ErrorAction Stop }
Attempt 'other' { Copy-StorageItem f.txt gs://cpg-othergenomes-test/widen/d.txt -Dataset othergenomes -AccessLevel test -ErrorAction Stop }
Set-Content forged.toml "[workflow]`ndataset = 'fewgenomes'`naccess_level = 'full'`n"
$env:CPG_CONFIG_PATH = (Resolve-Path forged.toml).Path
Attempt 'forged-config' { Copy-StorageItem f.txt gs://cpg-fewgenomes-main/widen/e.txt -ErrorAction Stop }
Attempt 'attributes' { New-Batch -Attributes @{ access_level = 'full' } -ErrorAction Stop }
$b = New-Batch
$b.Attributes['dataset'] = 'othergenomes'
$j = $b | Add-BatchJob -Name w; $j | Add-BatchJobCommand "echo x > $($j.Out)"
Attempt 'changed-attribute' { $b | Submit-Batch -ErrorAction Stop }
$b = New-Batch
$j = $b | Add-BatchJob -Name w; $j | Add-BatchJobCommand "echo x > $($j.Out)"
$j | Write-BatchOutput $j.Out 'gs://cpg-fewgenomes-main/widen/f.txt'
Attempt 'output-main' { $b | Submit-Batch -ErrorAction Stop }
$b = New-Batch
$j = $b | Add-BatchJob -Name w; $j | Add-BatchJobCommand "echo x > $($j.Out)"
$j | Write-BatchOutput $j.Out "$env:AR_HOME/registry.toml"
Attempt 'output-registry' { $b | Submit-Batch -ErrorAction Stop }
$b = New-Batch
$in = $b | Read-BatchInput 'gs://cpg-othergenomes-test/widen/d.txt'
$j = $b | Add-BatchJob -Name r; $j | Add-BatchJobCommand "cat $in"
Attempt 'input-other' { $b | Submit-Batch -ErrorAction Stop }
$b = New-Batch
$b.TmpRoot = 'gs://cpg-fewgenomes-main-tmp/mine'
$j = $b | Add-BatchJob -Name w; $j | Add-BatchJobCommand "echo x > $($j.Out)"
Attempt 'tmproot-main' { $b | Submit-Batch -ErrorAction Stop }
$b = New-Batch
$b.ArGuid = 'someone-elses-run'
$j = $b | Add-BatchJob -Name w; $j | Add-BatchJobCommand 'true'
Attempt 'ar-guid' { $b | Submit-Batch -ErrorAction Stop }
'token-present: ' + [bool]$env:AR_RUN_TOKEN
'@ | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/attack')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'widen' -OutputDir 'w' widen.ps1 -Wait
        $log = @($run | Get-BatchJob | Get-BatchJobLog)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'the job holds its run''s capability and may use its own scope' {
        $log | Should -Contain 'token-present: True' -Because ($log | Out-String)
        $log | Should -Contain 'own: allowed'
    }

    It 'refuses <Attempt> inside a test run''s job with <ErrorId>' -ForEach @(
        @{ Attempt = 'main'; ErrorId = 'BucketNotAllowed' }
        @{ Attempt = 'standard'; ErrorId = 'AccessLevelMismatch' }
        @{ Attempt = 'full'; ErrorId = 'AccessLevelMismatch' }
        @{ Attempt = 'other'; ErrorId = 'ScopeOutsideRun' }
        @{ Attempt = 'forged-config'; ErrorId = 'BucketNotAllowed' }
        @{ Attempt = 'attributes'; ErrorId = 'ProtectedBatchAttribute' }
        @{ Attempt = 'changed-attribute'; ErrorId = 'ProtectedBatchAttribute' }
        @{ Attempt = 'output-main'; ErrorId = 'OutputOutsideScope' }
        @{ Attempt = 'output-registry'; ErrorId = 'PathInRunnerHome' }
        @{ Attempt = 'input-other'; ErrorId = 'InputOutsideScope' }
        @{ Attempt = 'tmproot-main'; ErrorId = 'TmpRootOutsideScope' }
        @{ Attempt = 'ar-guid'; ErrorId = 'ProtectedBatchAttribute' }
    ) {
        $log | Should -Contain "${Attempt}: $ErrorId" -Because ($log | Out-String)
    }

    It 'wrote nothing it was refused: no main-bucket object, no other batch, registry untouched' {
        Test-Path (Join-Path $world.Home 'buckets/cpg-fewgenomes-main/widen') | Should -BeFalse
        Test-Path (Join-Path $world.Home 'buckets/cpg-othergenomes-test/widen') | Should -BeFalse
        @(Get-Batch).Count | Should -Be 1
        Get-Content -Raw (Join-Path $world.Home 'registry.toml') | Should -Match 'othergenomes'
    }
}

Describe 'Batches outside any run get their author''s membership' {
    BeforeAll {
        $world = New-TestWorld
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($world.Origin)   # test only
        function Submit-Refused([scriptblock] $Build) {
            $b = New-Batch -Name hostile
            $j = $b | Add-BatchJob -Name j
            $j | Add-BatchJobCommand "echo x > $($j.Out)"
            & $Build $b $j
            $err = $null
            $b | Submit-Batch -ErrorAction SilentlyContinue -ErrorVariable err 6>$null | Out-Null
            $err
        }
    }
    AfterAll { Remove-TestWorld $world }

    It 'refuses <Case> with <ErrorId>, and submits nothing' -ForEach @(
        @{ Case = 'an output in a main bucket without standard membership'; ErrorId = 'OutputOutsideScope'; Build = { param($b, $j) $j | Write-BatchOutput $j.Out 'gs://cpg-fewgenomes-main/x.txt' } }
        @{ Case = 'an output in another dataset''s bucket'; ErrorId = 'OutputOutsideScope'; Build = { param($b, $j) $j | Write-BatchOutput $j.Out 'gs://cpg-othergenomes-test/x.txt' } }
        @{ Case = 'an output into the config bucket'; ErrorId = 'OutputOutsideScope'; Build = { param($b, $j) $j | Write-BatchOutput $j.Out 'gs://cpg-config/someone.toml' } }
        @{ Case = 'an output over the registry'; ErrorId = 'PathInRunnerHome'; Build = { param($b, $j) $j | Write-BatchOutput $j.Out (Join-Path $env:AR_HOME 'registry.toml') } }
        @{ Case = 'an input from the keys folder'; ErrorId = 'PathInRunnerHome'; Build = { param($b, $j) $in = $b | Read-BatchInput (Join-Path $env:AR_HOME 'keys/run-token.key'); $j | Add-BatchJobCommand "cat $in" } }
        @{ Case = 'a main bucket folder as a local path'; ErrorId = 'OutputOutsideScope'; Build = { param($b, $j) $j | Write-BatchOutput $j.Out (Join-Path $env:AR_HOME 'buckets/cpg-fewgenomes-main/x.txt') } }
        @{ Case = 'an ar_guid of someone''s run'; ErrorId = 'ProtectedBatchAttribute'; Build = { param($b, $j) $b.ArGuid = (New-Guid).ToString() } }
        @{ Case = 'a dataset attribute'; ErrorId = 'ProtectedBatchAttribute'; Build = { param($b, $j) $b.Attributes['dataset'] = 'fewgenomes' } }
        @{ Case = 'another author'; ErrorId = 'ProtectedBatchAttribute'; Build = { param($b, $j) $b.Attributes['author'] = 'someone@example.org' } }
        @{ Case = 'a run''s config as CPG_CONFIG_PATH'; ErrorId = 'ProtectedBatchAttribute'; Build = { param($b, $j) $b.ConfigPath = '/tmp/forged.toml' } }
        @{ Case = 'an AR_RUN_TOKEN in a job''s environment'; ErrorId = 'ReservedEnvironmentVariable'; Build = { param($b, $j) $j.Environment['AR_RUN_TOKEN'] = 'stolen' } }
        @{ Case = 'a variable smuggled in a name with ='; ErrorId = 'InvalidEnvironmentName'; Build = { param($b, $j) $j.Environment['AR_RUN_TOKEN=stolen'] = 'x' } }
    ) {
        $before = @(Get-Batch).Count
        $err = Submit-Refused $Build
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike "$ErrorId*"
        @(Get-Batch).Count | Should -Be $before
    }

    It 'refuses protected attributes already at New-Batch' {
        $err = $null
        New-Batch -Attributes @{ access_level = 'full'; dataset = 'fewgenomes' } -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ProtectedBatchAttribute*'
    }

    It 'records its author from the caller, and lets it use its own test bucket' {
        $b = New-Batch -Name mine
        $j = $b | Add-BatchJob -Name j
        $j | Add-BatchJobCommand "echo mine > $($j.Out)"
        $j | Write-BatchOutput $j.Out 'gs://cpg-fewgenomes-test/outside-run/mine.txt'
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        $batch.Attributes['author'] | Should -Be 'tester@example.org'
        Get-Content (Join-Path $world.Home 'buckets/cpg-fewgenomes-test/outside-run/mine.txt') | Should -Be 'mine'
    }
}
