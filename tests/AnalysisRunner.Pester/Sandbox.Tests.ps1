BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
}

# The per-batch bubblewrap sandbox through the cmdlets, as the attacker would try it: batches built with
# New-Batch/Add-BatchJob and run by the executor under [executor] sandbox = "bubblewrap".
Describe 'Jobs under the per-batch sandbox' {
    BeforeAll {
        if (-not (Test-Path /usr/bin/bwrap)) { throw 'These tests need bubblewrap (apt-get install bubblewrap).' }
        $world = New-TestWorld
        $world.StorageSettings = "[executor]`nsandbox = `"bubblewrap`""
        Write-TestSettings $world
        $registry = Join-Path $world.Home 'registry.toml'
        $main = Join-Path $world.Home 'buckets/cpg-fewgenomes-main'
        New-Item -ItemType Directory -Force $main | Out-Null
    }
    AfterAll {
        Pop-Location -ErrorAction SilentlyContinue
        Remove-Item -Recurse -Force $world.Root -ErrorAction SilentlyContinue
    }

    It 'a job that reads registry.toml, the database or the run-token key finds nothing there' {
        $b = New-Batch -Name attack
        foreach ($target in $registry, (Join-Path $world.Home 'runner.db'), (Join-Path $world.Home 'keys/run-token.key'), (Join-Path $world.Home 'settings.toml')) {
            $j = $b | Add-BatchJob -Name "read $(Split-Path -Leaf $target)"
            $j | Add-BatchJobCommand "cat $(ConvertTo-ShellLiteral $target)"
        }
        # A failed batch is an error of Submit-Batch -Wait (BatchFailed); here the failures are the point.
        $result = $b | Submit-Batch -Wait -Timeout 120 -ErrorAction SilentlyContinue 6>$null
        $result.State | Should -Be 'Failed'
        foreach ($job in @($result | Get-BatchJob)) {
            $job.State | Should -Be 'Failed'
            $job.ExitCode | Should -Be 1
            ($job | Get-BatchJobLog -Stream Stderr) -join "`n" | Should -Match 'No such file or directory'
        }
        Test-Path $registry | Should -BeTrue
    }

    It 'a job that writes a main bucket folder directly writes nothing there' {
        $b = New-Batch -Name widen
        $b | Add-BatchJob -Name write | Add-BatchJobCommand "echo pwned > $(ConvertTo-ShellLiteral (Join-Path $main 'pwned.txt'))"
        ($b | Submit-Batch -Wait -Timeout 120 -ErrorAction SilentlyContinue 6>$null).State | Should -Be 'Failed'
        Test-Path (Join-Path $main 'pwned.txt') | Should -BeFalse
    }

    It 'the same batch does its legitimate work: resources between jobs, inputs, Write-BatchOutput to its bucket' {
        $inputFile = Join-Path $world.Home 'buckets/cpg-fewgenomes-test/in/data.txt'
        New-Item -ItemType Directory -Force (Split-Path $inputFile) | Out-Null
        Set-Content $inputFile 'from the bucket'
        $b = New-Batch -Name honest
        $in = $b | Read-BatchInput 'gs://cpg-fewgenomes-test/in/data.txt'
        $j1 = $b | Add-BatchJob -Name upper
        $j1 | Add-BatchJobCommand "tr a-z A-Z < $in > $($j1.Out)"
        $j2 = $b | Add-BatchJob -Name copy
        $j2 | Add-BatchJobCommand "cat $($j1.Out) > $($j2.Out); test -z `"`${AR_TOKEN-}`"; test -z `"`${AR_SERVER-}`""
        $j2 | Write-BatchOutput $j2.Out 'gs://cpg-fewgenomes-test/out/upper.txt'
        $result = $b | Submit-Batch -Wait -Timeout 120 6>$null
        $result.State | Should -Be 'Succeeded' -Because (($result | Get-BatchJob | ForEach-Object Reason) -join '; ')
        Get-Content (Join-Path $world.Home 'buckets/cpg-fewgenomes-test/out/upper.txt') | Should -Be 'FROM THE BUCKET'
    }
}
