# The errors a newcomer meets: each one an ErrorRecord with a stable ErrorId and a message that says
# what is wrong and what to do; errors about the deployment itself end the pipeline once.

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    # Every error a command writes or throws, in order (the suites run with $ErrorActionPreference = 'Stop').
    function Get-ErrorsOf([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        $errors = [System.Collections.Generic.List[object]]::new()
        try {
            & $Command 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } }
        }
        catch { $errors.Add($_) }
        , $errors.ToArray()
    }
}

Describe 'Errors about the deployment end the pipeline, once' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }
    AfterEach {
        Write-TestSettings $world
        Set-TestRegistry -World $world -TestMembers $world.Email -Repositories $world.Origin
    }

    It 'a word where settings.toml wants a number is one InvalidSettings error naming the key, however many ids are piped' {
        Set-Content (Join-Path $world.Home 'settings.toml') "[executor]`ncpus = `"two`""
        $errors = Get-ErrorsOf { 1, 2, 3 | ForEach-Object { [pscustomobject]@{ Id = $_ } } | Get-Batch }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSettings,*'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errors[0].Exception.Message | Should -Match 'executor\.cpus'
        { 1, 2, 3 | ForEach-Object { [pscustomobject]@{ Id = $_ } } | Get-Batch -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'InvalidSettings*'
    }

    It 'a broken registry is one InvalidRegistry error, not one per path' {
        Set-Content (Join-Path $world.Home 'registry.toml') "[datasets.fewgenomes]`ntset = []"
        Push-Location $world.Checkout
        try {
            $errors = Get-ErrorsOf { 'gs://cpg-fewgenomes-test/a', 'gs://cpg-fewgenomes-test/b' | Get-StorageItem }
        } finally { Pop-Location }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidRegistry,*'
    }

    It 'a -RunnerHome that cannot be made says so and how to fix it' {
        $errors = Get-ErrorsOf { Get-Batch -RunnerHome /proc/nope }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'RunnerHomeUnusable,*'
        $errors[0].TargetObject | Should -Be '/proc/nope'
        $errors[0].Exception.Message | Should -Match "runner home '/proc/nope' cannot be used"
        $errors[0].Exception.Message | Should -Match '-RunnerHome'
    }
}

Describe 'Every exception reaching a cmdlet is an ErrorRecord' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    It 'one Core does not raise itself keeps its type as its ErrorId and gets a category' {
        $folder = Join-Path $world.Root 'a-folder.toml'
        New-Item -ItemType Directory $folder | Out-Null
        $errors = Get-ErrorsOf { Get-CpgConfig -Path $folder }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'UnauthorizedAccessException,*'
        $errors[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
    }
}

Describe 'What is not there is named' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'one' -OutputDir 'x' hello.sh me -Wait 6>$null
        Submit-Analysis -Dataset fewgenomes -AccessLevel standard -Description 'two' -OutputDir 'x' hello.sh me 6>$null | Out-Null
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'Get-BatchJobLog for a batch that does not exist says the batch is missing, not the job' {
        $errors = Get-ErrorsOf { Get-BatchJobLog -BatchId 999 -JobId 1 }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'BatchNotFound,*'
        $errors[0].Exception.Message | Should -Match 'no batch 999'
        $errors = Get-ErrorsOf { Get-BatchJobLog -BatchId $run.DriverBatchId -JobId 7 }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        $errors[0].Exception.Message | Should -Match "Batch $($run.DriverBatchId) has no job 7"
    }

    It 'Get-AnalysisLog for a dataset the registry does not know is DatasetNotFound listing the known ones' {
        $errors = Get-ErrorsOf { Get-AnalysisLog -Dataset nogenomes }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'DatasetNotFound,*'
        $errors[0].Exception.Message | Should -Match 'fewgenomes'
    }

    It 'Get-AnalysisLog -Dataset fewgenomes-test points at -AccessLevel test' {
        $errors = Get-ErrorsOf { Get-AnalysisLog -Dataset fewgenomes-test }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'DatasetNotFound,*'
        $errors[0].Exception.Message | Should -Match '-Dataset fewgenomes -AccessLevel test'
    }

    It 'Get-AnalysisLog -AccessLevel keeps the runs of that level' {
        @(Get-AnalysisLog -Dataset fewgenomes -AccessLevel test).Description | Should -Be @('one')
        @(Get-AnalysisLog -AccessLevel standard).Description | Should -Be @('two')
        @(Get-AnalysisLog -AccessLevel full) | Should -BeNullOrEmpty
    }
}
