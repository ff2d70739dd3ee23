# Measured usage: the executor records what each attempt used; Get-BatchJob shows it and
# Get-AnalysisUsage sums it per day, user or batch.

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

Describe 'Get-AnalysisUsage and measured usage of the onboarding run' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' `
            -OutputDir 'onboarding/tester/usage' hello.ps1 -NameToPrint tester -Wait -InformationAction SilentlyContinue
        $batches = @(Get-Batch -ArGuid $run.ArGuid | Sort-Object Id)
        $jobs = @($batches | Get-BatchJob)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'Get-BatchJob carries what each job used, shown by Format-List' {
        $jobs.Count | Should -Be 3
        foreach ($job in $jobs) {
            $job.CpuSeconds | Should -Not -BeNullOrEmpty
            $job.PeakMemoryBytes | Should -BeGreaterThan 0
            $job.WallSeconds | Should -BeGreaterThan 0
        }
        # The driver runs pwsh: far more than a few MB, which an echo job's shell stays under.
        ($jobs | Where-Object Name -eq 'driver').PeakMemoryBytes | Should -BeGreaterThan 20MB
        ($jobs[0] | Format-List | Out-String) | Should -Match 'PeakMemoryBytes\s*: \d+'
    }

    It 'Get-AnalysisUsage -By Batch sums the jobs of each batch of the run, all measured' {
        $rows = @(Get-AnalysisUsage -Dataset fewgenomes -By Batch)
        $rows | ForEach-Object { $_ | Should -BeOfType ([AnalysisRunner.Core.Usage.UsageRow]) }
        $rows.Key | Should -Be @($batches.Id | ForEach-Object { "$_" })
        $rows.Jobs | Should -Be @(1, 2)
        foreach ($row in $rows) {
            $row.AllocatedOnlyJobs | Should -Be 0
            $these = @($jobs | Where-Object BatchId -eq ([long]$row.Key))
            $row.CpuSeconds | Should -Be ($these | Measure-Object CpuSeconds -Sum).Sum
            $row.WallSeconds | Should -Be ($these | Measure-Object WallSeconds -Sum).Sum
        }
    }

    It 'Get-AnalysisUsage -By User and -By Day count the same three jobs' {
        $byUser = @(Get-AnalysisUsage fewgenomes -By User)
        $byUser.Key | Should -Be @('tester@example.org')
        $byUser.Jobs | Should -Be 3
        $byDay = @(Get-AnalysisUsage fewgenomes)
        ($byDay | Measure-Object Jobs -Sum).Sum | Should -Be 3
        [math]::Round(($byDay | Measure-Object CpuSeconds -Sum).Sum, 9) | Should -Be ([math]::Round($byUser[0].CpuSeconds, 9))
    }

    It 'counts only the runs of the dataset asked for' {
        @(Get-AnalysisUsage othergenomes).Count | Should -Be 0
    }

    It 'refuses a -Since further back than 366 days, or in the future, before reading any run' {
        Get-AnalysisUsage fewgenomes -Since ([datetime]::SpecifyKind([datetime]::MinValue, 'Utc')) -ErrorVariable tooLong -ErrorAction SilentlyContinue
        $tooLong.Count | Should -Be 1
        $tooLong[0].FullyQualifiedErrorId | Should -BeLike 'UsageWindowTooLong,*'
        $tooLong[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $tooLong[0].TargetObject | Should -Be '0001-01-01'
        $tooLong[0].Exception.Message | Should -Match "give a day from $((Get-Date).ToUniversalTime().AddDays(-366).ToString('yyyy-MM-dd'))"
        Get-AnalysisUsage fewgenomes -Since (Get-Date).AddDays(2) -ErrorVariable future -ErrorAction SilentlyContinue
        $future[0].FullyQualifiedErrorId | Should -BeLike 'UsageSinceInFuture,*'
        @(Get-AnalysisUsage fewgenomes -Since (Get-Date).ToUniversalTime().Date.AddDays(-366)).Count | Should -BeGreaterThan 0
    }

    It 'names a dataset the registry does not know as DatasetNotFound' {
        Get-AnalysisUsage nosuchdataset -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'DatasetNotFound,*'
    }

    It 'shows a table that fits 80 columns' {
        $lines = @(Get-AnalysisUsage fewgenomes -By Batch | Out-String -Width 200) -split "`n"
        ($lines | Measure-Object Length -Maximum).Maximum | Should -BeLessOrEqual 80
        ($lines -join "`n") | Should -Match 'CpuSeconds'
    }
}
