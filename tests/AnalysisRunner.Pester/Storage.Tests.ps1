BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force

    # The first error a command writes (the suites run with $ErrorActionPreference = 'Stop').
    function Get-ErrorOf([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        & $Command 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
    }
}

# The same cmdlets against each backend: the local folder store, and Google Cloud Storage as the
# project's GCS test server serves it.
Describe 'Storage cmdlets on the <Backend> backend' -ForEach @(
    @{ Backend = 'local' }
    @{ Backend = 'gcs' }
) {
    BeforeAll {
        $world = New-TestWorld -FullMembers @('tester@example.org')
        $gcs = $null
        if ($Backend -eq 'gcs') {
            $gcs = Start-TestGcsServer
            Set-TestGcsBackend $world -Endpoint $gcs.Endpoint
        }
        Push-Location $world.Checkout          # (who the caller is comes from the settings, not from here)
        $p = 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $test = "gs://cpg-fewgenomes-test/$p"
        $local = Join-Path $world.Root 'local'
        New-Item -ItemType Directory $local | Out-Null
        Set-Content (Join-Path $local 'hello.txt') "Hello, storage!`nsecond line" -NoNewline
        $scope = @{ Dataset = 'fewgenomes'; AccessLevel = 'test' }
    }
    AfterAll { Pop-Location; Remove-TestWorld $world; Stop-TestGcsServer $gcs }

    It 'Copy-StorageItem uploads a local file and returns the object' {
        $item = Copy-StorageItem (Join-Path $local 'hello.txt') "$test/onboarding/" @scope
        $item.Path | Should -Be "$test/onboarding/hello.txt"
        $item.Size | Should -Be 27
    }

    It 'Get-StorageItem lists what is under a prefix, folders as prefixes, and -Recurse lists everything' {
        Copy-StorageItem (Join-Path $local 'hello.txt') "$test/onboarding/deeper/again.txt" @scope | Out-Null
        $top = @(Get-StorageItem "$test/onboarding/" @scope)
        $top.Name | Should -Be @('deeper/', 'hello.txt')
        $top[0].IsPrefix | Should -BeTrue
        @(Get-StorageItem "$test/onboarding" -Recurse @scope).Path | Should -Be @("$test/onboarding/deeper/again.txt", "$test/onboarding/hello.txt")
        (Get-StorageItem "$test/onboarding/hello.txt").Size | Should -Be 27      # scope from the bucket name
        (Get-StorageItem "$test/onboarding/" @scope | Out-String) | Should -Match 'hello\.txt'
    }

    It 'Get-StorageContent reads lines, -Raw text and -AsByteStream bytes' {
        Get-StorageContent "$test/onboarding/hello.txt" @scope | Should -Be @('Hello, storage!', 'second line')
        Get-StorageContent "$test/onboarding/hello.txt" -Raw @scope | Should -BeExactly "Hello, storage!`nsecond line"
        $bytes = Get-StorageContent "$test/onboarding/hello.txt" -AsByteStream -Raw @scope
        $bytes.GetType() | Should -Be ([byte[]])
        $bytes.Length | Should -Be 27
    }

    It 'Copy-StorageItem downloads and copies bucket to bucket' {
        $file = Copy-StorageItem "$test/onboarding/hello.txt" (Join-Path $local 'down.txt') @scope
        $file | Should -BeOfType ([IO.FileInfo])
        Get-Content -Raw (Join-Path $local 'down.txt') | Should -BeExactly "Hello, storage!`nsecond line"
        $copy = Copy-StorageItem "$test/onboarding/hello.txt" "gs://cpg-fewgenomes-test-tmp/$p/copy.txt" @scope
        $copy.Size | Should -Be 27
        $tree = @(Copy-StorageItem "$test/onboarding/" (Join-Path $local 'tree') -Recurse @scope)
        $tree.Count | Should -Be 2
        Test-Path (Join-Path $local 'tree/deeper/again.txt') | Should -BeTrue
    }

    It 'a missing object is ObjectNotFound naming the path' {
        $e = Get-ErrorOf { Get-StorageContent "$test/nothing-here.txt" @scope }
        $e.FullyQualifiedErrorId | Should -Match '^ObjectNotFound'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.TargetObject | Should -Be "$test/nothing-here.txt"
    }

    It 'a test run writing or reading a main bucket is refused with the buckets it may use, and nothing is written' {
        $e = Get-ErrorOf { Copy-StorageItem (Join-Path $local 'hello.txt') "gs://cpg-fewgenomes-main/$p/x.txt" @scope }
        $e.FullyQualifiedErrorId | Should -Match '^BucketNotAllowed'
        $e.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $e.TargetObject | Should -Be "gs://cpg-fewgenomes-main/$p/x.txt"
        $e.Exception.Message | Should -Match 'gs://cpg-fewgenomes-test-tmp'
        (Get-ErrorOf { Get-StorageItem "gs://cpg-fewgenomes-main/$p/x.txt" -Dataset fewgenomes -AccessLevel full }).FullyQualifiedErrorId |
            Should -Match '^ObjectNotFound'
        (Get-ErrorOf { Get-StorageItem "gs://cpg-othergenomes-test/" @scope }).FullyQualifiedErrorId | Should -Match '^BucketNotAllowed'
    }

    It 'someone who is not a member of the dataset at that level gets no store' {
        $e = Get-ErrorOf { Get-StorageItem 'gs://cpg-othergenomes-test/' -Dataset othergenomes -AccessLevel test }
        $e.FullyQualifiedErrorId | Should -Match '^NotAMember'
    }

    It 'Remove-StorageItem honours -WhatIf, removes, and -Recurse removes a prefix' {
        Remove-StorageItem "$test/onboarding/hello.txt" -WhatIf @scope
        Get-StorageItem "$test/onboarding/hello.txt" @scope | Should -Not -BeNullOrEmpty
        Remove-StorageItem "$test/onboarding/hello.txt" @scope
        (Get-ErrorOf { Get-StorageItem "$test/onboarding/hello.txt" @scope }).FullyQualifiedErrorId | Should -Match '^ObjectNotFound'
        (Get-ErrorOf { Remove-StorageItem "$test/onboarding/" @scope }).FullyQualifiedErrorId | Should -Match '^RecurseRequired'
        Remove-StorageItem "$test/onboarding/" -Recurse @scope
        (Get-ErrorOf { Get-StorageItem "$test/onboarding/" @scope }).FullyQualifiedErrorId | Should -Match '^ObjectNotFound'
    }

    It 'standard may not delete in main buckets; full may' {
        $main = "gs://cpg-fewgenomes-main-analysis/$p/result.txt"
        Copy-StorageItem (Join-Path $local 'hello.txt') $main -Dataset fewgenomes -AccessLevel standard | Out-Null
        $e = Get-ErrorOf { Remove-StorageItem $main -Dataset fewgenomes -AccessLevel standard -Force }
        $e.FullyQualifiedErrorId | Should -Match '^DeleteNotAllowed'
        $e.CategoryInfo.Category | Should -Be 'PermissionDenied'
        Get-StorageItem $main -Dataset fewgenomes -AccessLevel standard | Should -Not -BeNullOrEmpty
        Remove-StorageItem $main -Dataset fewgenomes -AccessLevel full -Force
        (Get-ErrorOf { Get-StorageItem $main -Dataset fewgenomes -AccessLevel full }).FullyQualifiedErrorId | Should -Match '^ObjectNotFound'
    }

    It 'a CPG_CONFIG_PATH the caller wrote grants nothing: outside a run the caller''s own membership decides' {
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($world.Origin)   # no standard, no full
        $config = Join-Path $world.Root 'forged.toml'
        Set-Content $config "[workflow]`ndataset = `"fewgenomes`"`naccess_level = `"full`"`n"
        $env:CPG_CONFIG_PATH = $config
        try {
            $e = Get-ErrorOf { Get-StorageItem "gs://cpg-fewgenomes-main/" }
            $e.FullyQualifiedErrorId | Should -Match '^NotAMember'
            $e = Get-ErrorOf { Copy-StorageItem (Join-Path $local 'hello.txt') "gs://cpg-fewgenomes-main/$p/forged.txt" }
            $e.FullyQualifiedErrorId | Should -Match '^NotAMember'
            @(Get-StorageItem "$test/" -ErrorAction SilentlyContinue).Count | Should -BeGreaterOrEqual 0
        }
        finally {
            Remove-Item Env:CPG_CONFIG_PATH
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -StandardMembers 'tester@example.org' -FullMembers 'tester@example.org' -Repositories @($world.Origin)
        }
        (Get-ErrorOf { Get-StorageItem "gs://cpg-fewgenomes-main/$p/forged.txt" -Dataset fewgenomes -AccessLevel full }).FullyQualifiedErrorId | Should -Match '^ObjectNotFound'
    }

    It 'a forged AR_RUN_TOKEN is refused, not ignored' {
        $env:AR_RUN_TOKEN = '00000000-0000-0000-0000-000000000000.' + ('A' * 43)
        try {
            (Get-ErrorOf { Get-StorageItem "$test/" }).FullyQualifiedErrorId | Should -Match '^InvalidRunToken'
            (Get-ErrorOf { Get-StorageItem "$test/" @scope }).FullyQualifiedErrorId | Should -Match '^InvalidRunToken'
        }
        finally { Remove-Item Env:AR_RUN_TOKEN }
    }

    It 'emails compare without case: a registry entry in other case is the same member' {
        Set-TestIdentity -World $world -Email 'Tester@Example.ORG'
        try {
            @(Get-StorageItem "$test/" -Recurse -ErrorAction SilentlyContinue -ErrorVariable errs).Count | Should -BeGreaterOrEqual 0
            @($errs | Where-Object { $_.FullyQualifiedErrorId -match '^NotAMember' }) | Should -BeNullOrEmpty
        }
        finally { Set-TestIdentity -World $world -Email 'tester@example.org' }
    }

    It 'bucket names tab-complete from the user''s datasets' {
        $line = 'Get-StorageItem gs://cpg-few'
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $completions | Should -Contain 'gs://cpg-fewgenomes-test/'
        $completions | Should -Contain 'gs://cpg-fewgenomes-main-tmp/'
        $completions | Should -Not -Contain 'gs://cpg-othergenomes-test/'
    }
}

Describe 'Storage on the local backend keeps run configs and bucket folders usable as paths' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'storage' -OutputDir 'onboarding/tester/storage' hello.sh tester -Wait
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'the config is a plain file under configs/ that Get-CpgConfig reads by path and ar_guid' {
        $run.ConfigPath | Should -Be (Join-Path $world.Home "configs/$($run.ArGuid).toml")
        (Get-CpgConfig -Path $run.ConfigPath).workflow.dataset | Should -Be 'fewgenomes'
        (Get-CpgConfig -ArGuid $run.ArGuid).workflow.ar_guid | Should -Be $run.ArGuid
        @(Get-ChildItem -Force (Join-Path $world.Home 'configs')).Name | Should -Be @("$($run.ArGuid).toml")
    }

    It 'a bucket folder from the run config works as a storage path, under the same scope' {
        $folder = (Get-CpgConfig -Path $run.ConfigPath).storage.default.default
        Set-Content (Join-Path $world.Root 'f.txt') 'x'
        $item = Copy-StorageItem (Join-Path $world.Root 'f.txt') "$folder/from-config/f.txt"
        $item.Path | Should -Be 'gs://cpg-fewgenomes-test/from-config/f.txt'
        Test-Path (Join-Path $folder 'from-config/f.txt') | Should -BeTrue
    }
}

Describe 'A batch on the gcs backend hands files over through the buckets' {
    BeforeAll {
        $world = New-TestWorld
        $gcs = Start-TestGcsServer
        Set-TestGcsBackend $world -Endpoint $gcs.Endpoint
        Push-Location $world.Checkout
        $p = 'pester-batch-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $scope = @{ Dataset = 'fewgenomes'; AccessLevel = 'test' }
        $inputFile = Join-Path $world.Root 'input.txt'
        Set-Content $inputFile 'from the bucket' -NoNewline
        Copy-StorageItem $inputFile "gs://cpg-fewgenomes-test/$p/in.txt" @scope | Out-Null
    }
    AfterAll { Pop-Location; Remove-TestWorld $world; Stop-TestGcsServer $gcs }

    It 'downloads inputs, uploads resources to the tmp bucket and outputs to their destination' {
        $b = New-Batch -Name gcs
        $in = $b | Read-BatchInput "gs://cpg-fewgenomes-test/$p/in.txt"
        $j1 = $b | Add-BatchJob -Name upper
        $j1 | Add-BatchJobCommand "tr a-z A-Z < $in > $($j1.Out)"
        $j2 = $b | Add-BatchJob -Name reader
        $j2 | Add-BatchJobCommand "cat $($j1.Out) > $($j2.Out)"
        $j2 | Write-BatchOutput $j2.Out "gs://cpg-fewgenomes-test/$p/out.txt"
        $batch = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $batch.State | Should -Be 'Succeeded'
        Get-StorageContent "gs://cpg-fewgenomes-test/$p/out.txt" @scope | Should -Be 'FROM THE BUCKET'
        # The first job's resource went up to the tmp bucket (asked of the server directly: a batch
        # outside a run keeps its resources in a bucket no dataset scope covers).
        $listing = Invoke-RestMethod "$($gcs.Endpoint)b/local-tmp/o?prefix=batch/$($batch.Id)/"
        $listing.items.name | Should -Contain "batch/$($batch.Id)/1.out"
        $listing.items.name | Should -Contain "batch/$($batch.Id)/2.out"
    }
}

Describe 'The batch onboarding exercise on the gcs backend' {
    BeforeAll {
        $world = New-TestWorld
        $gcs = Start-TestGcsServer
        Set-TestGcsBackend $world -Endpoint $gcs.Endpoint -Extra @"
[storage.dataset_credentials.fewgenomes]
test = "/keys/fewgenomes-test.json"
standard = "/keys/fewgenomes-standard.json"
"@
        $env:GOOGLE_APPLICATION_CREDENTIALS = '/keys/the-runners-own.json'   # must not reach a job
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch on GCS' -OutputDir 'onboarding/tester/gcs' hello.ps1 -NameToPrint 'GCS tester'
        $batches = @($run | Wait-Batch -Timeout 300)
        $jobs = @($batches | Get-BatchJob)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world; Stop-TestGcsServer $gcs; Remove-Item Env:GOOGLE_APPLICATION_CREDENTIALS -ErrorAction SilentlyContinue }

    It 'gives the driver its scope''s key file and no other' {
        $check = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'key' -OutputDir 'k' -Wait `
            -SkipRepoCheckout -- bash -c 'echo "key=$GOOGLE_APPLICATION_CREDENTIALS"'
        ($check | Get-BatchJob | Get-BatchJobLog) | Should -Contain 'key=/keys/fewgenomes-test.json'
    }

    It 'keeps the run config in the config bucket and gs:// buckets in it' {
        $run.ConfigPath | Should -BeLike 'gs://cpg-config/*.toml'
        $config = $run | Get-CpgConfig
        $config.workflow.dataset | Should -Be 'fewgenomes'
        $config.storage.default.tmp | Should -Be 'gs://cpg-fewgenomes-test-tmp'
    }

    It 'runs the driver, which submits the two-job batch from inside the job' {
        ($jobs | Where-Object Name -eq 'driver').State | Should -Be 'Succeeded'
        $batches.Count | Should -Be 2
        ($jobs | Where-Object Name -eq 'second job' | Get-BatchJobLog) | Should -Contain 'Hello, GCS tester'
    }

    It 'writes out.txt to the run''s output folder in the bucket' {
        Get-StorageContent gs://cpg-fewgenomes-test/onboarding/tester/gcs/out.txt -Dataset fewgenomes -AccessLevel test | Should -Be 'Hello, GCS tester'
    }

    It 'hands the first job''s file to the second through the run''s tmp bucket' {
        $sub = $batches | Where-Object Id -ne $run.DriverBatchId
        $listing = Invoke-RestMethod "$($gcs.Endpoint)b/cpg-fewgenomes-test-tmp/o?prefix=batch/$($sub.Id)/"
        $listing.items.name | Should -Contain "batch/$($sub.Id)/1.out"
    }
}

Describe 'Storage cmdlets take each path''s scope from that path (issue 18)' {
    BeforeAll {
        $world = New-TestWorld
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -OtherTestMembers 'tester@example.org' -Repositories @($world.Origin)
        Push-Location $world.Checkout
        $file = Join-Path $world.Root 'f.txt'
        Set-Content $file 'x'
        Copy-StorageItem $file 'gs://cpg-fewgenomes-test/each/a.txt' | Out-Null
        Copy-StorageItem $file 'gs://cpg-othergenomes-test/each/b.txt' | Out-Null
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'checks the second path of one call against its own bucket''s scope, not the first path''s' {
        $items = @(Get-StorageItem 'gs://cpg-fewgenomes-test/each/a.txt', 'gs://cpg-othergenomes-test/each/b.txt')
        $items.Path | Should -Be @('gs://cpg-fewgenomes-test/each/a.txt', 'gs://cpg-othergenomes-test/each/b.txt')
    }

    It 'still refuses, per path, a bucket the caller is not a member of' {
        Set-TestRegistry -World $world -TestMembers 'tester@example.org' -Repositories @($world.Origin)
        try {
            $errors = $null
            $items = @(Get-StorageItem 'gs://cpg-fewgenomes-test/each/a.txt', 'gs://cpg-othergenomes-test/each/b.txt' -ErrorAction SilentlyContinue -ErrorVariable errors)
            $items.Path | Should -Be @('gs://cpg-fewgenomes-test/each/a.txt')
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'NotAMember*'
        } finally {
            Set-TestRegistry -World $world -TestMembers 'tester@example.org' -OtherTestMembers 'tester@example.org' -Repositories @($world.Origin)
        }
    }
}

Describe 'Storage cmdlets inside a job on the <Backend> backend take the run''s scope' -ForEach @(
    @{ Backend = 'local' }
    @{ Backend = 'gcs' }
) {
    BeforeAll {
        $world = New-TestWorld
        $gcs = $null
        if ($Backend -eq 'gcs') {
            $gcs = Start-TestGcsServer
            Set-TestGcsBackend $world -Endpoint $gcs.Endpoint
        }
        $p = 'in-job-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $file = Join-Path $world.Root 'seed.txt'
        Set-Content $file 'seed' -NoNewline
        Push-Location $world.Checkout
        Copy-StorageItem $file "gs://cpg-fewgenomes-test/$p/seed.txt" -Dataset fewgenomes -AccessLevel test | Out-Null
        # A job that lists its run's bucket without naming a scope, and tries a main bucket.
        Add-TestCommit -World $world -Path 'examples/storage/list.ps1' -Content @"
Import-Module AnalysisRunner
(Get-StorageItem 'gs://cpg-fewgenomes-test/$p/seed.txt').Path
try { Get-StorageItem 'gs://cpg-fewgenomes-main/' -ErrorAction Stop | Out-Null; 'main: allowed' } catch { 'main: ' + `$_.FullyQualifiedErrorId.Split(',')[0] }
"@ | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/storage')
    }
    AfterAll { Pop-Location; Pop-Location; Remove-TestWorld $world; Stop-TestGcsServer $gcs }

    It 'lists the run''s own bucket with no -Dataset, and is refused a main bucket' {
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'in job' -OutputDir 'j' list.ps1 -Wait
        $log = $run | Get-BatchJob | Get-BatchJobLog
        $log | Should -Contain "gs://cpg-fewgenomes-test/$p/seed.txt" -Because ($log | Out-String)
        $log | Should -Contain 'main: BucketNotAllowed'
    }
}

Describe 'Storage cmdlets never move the runner home''s own files' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    It 'refuses to upload <File> from the runner home, and writes no object' -ForEach @(
        @{ File = 'keys/run-token.key' }, @{ File = 'registry.toml' }, @{ File = 'runner.db' }
    ) {
        $ErrorActionPreference = 'Continue'
        $e = Copy-StorageItem (Join-Path $world.Home $File) 'gs://cpg-fewgenomes-test/exfiltrated' -Dataset fewgenomes -AccessLevel test 2>&1 |
            Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
        $e.FullyQualifiedErrorId | Should -Match '^PathInRunnerHome'
        Test-Path (Join-Path $world.Home 'buckets/cpg-fewgenomes-test/exfiltrated') | Should -BeFalse
    }

    It 'refuses to download over the registry' {
        $ErrorActionPreference = 'Continue'
        $source = Join-Path $world.Root 'evil.toml'
        Set-Content $source '[datasets.evil]'
        Copy-StorageItem $source 'gs://cpg-fewgenomes-test/evil.toml' -Dataset fewgenomes -AccessLevel test | Out-Null
        $before = Get-Content -Raw (Join-Path $world.Home 'registry.toml')
        $e = Copy-StorageItem 'gs://cpg-fewgenomes-test/evil.toml' (Join-Path $world.Home 'registry.toml') -Dataset fewgenomes -AccessLevel test 2>&1 |
            Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Select-Object -First 1
        $e.FullyQualifiedErrorId | Should -Match '^PathInRunnerHome'
        Get-Content -Raw (Join-Path $world.Home 'registry.toml') | Should -Be $before
    }
}
