# Links from the cmdlets to the web pages: [web] url in settings.toml gives runs, batches and jobs a
# Url, Submit-Analysis and a driver's Submit-Batch print where their batch is, and Show-Batch /
# Show-AnalysisLog open the pages in $BROWSER (here a script that records what it was given).

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:site = 'http://127.0.0.1:5080'

    function Set-TestWebAddress($World, [string] $Url) {
        $World.StorageSettings = "[web]`nurl = $(ConvertTo-TomlString $Url)"
        Write-TestSettings $World
    }

    <# A $BROWSER that appends each argument it gets, one a line, to a file, and exits with $ExitCode. #>
    function New-TestBrowser($World, [int] $ExitCode = 0) {
        $browser = Join-Path $World.Root ("browser-" + [guid]::NewGuid().ToString('N') + ".sh")
        Set-Content $browser "#!/bin/sh`nfor a in `"`$@`"; do printf '%s\n' `"`$a`" >> `"`$0.args`"; done`necho opened >> `"`$0.runs`"`nexit $ExitCode"
        chmod +x $browser
        $browser
    }

    function Get-TestBrowserArguments([string] $Browser) {
        if (Test-Path "$Browser.args") { @(Get-Content "$Browser.args") } else { @() }
    }
}

Describe 'With a web address, the onboarding run links to its pages' {
    BeforeAll {
        $world = New-TestWorld
        Set-TestWebAddress $world "$site/"
        Push-Location (Join-Path $world.Checkout 'examples/batch')
        $info = $null
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' `
            -OutputDir 'onboarding/tester/links' hello.ps1 -NameToPrint tester -Wait -InformationVariable info
        $subBatch = @(Get-Batch -ArGuid $run.ArGuid | Where-Object Id -ne $run.DriverBatchId)
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'Submit-Analysis says "Request submitted successfully:" with the driver batch page, after the line with the run and batch' {
        $lines = @($info | ForEach-Object { "$_" })
        $lines | Should -Contain "Request submitted successfully: $site/batches/$($run.DriverBatchId)"
        ($lines -match '^Submitted run ').Count | Should -Be 1
        $lines[0] | Should -BeLike "Submitted run $($run.ArGuid) (driver batch $($run.DriverBatchId)):*"
    }

    It 'gives the run the driver batch page as its Url' {
        $run.Url | Should -Be "$site/batches/$($run.DriverBatchId)"
        (Get-AnalysisLog -ArGuid $run.ArGuid).Url | Should -Be "$site/batches/$($run.DriverBatchId)"
    }

    It 'gives every batch and job of the run its page' {
        $subBatch.Count | Should -Be 1
        foreach ($batch in Get-Batch -ArGuid $run.ArGuid) {
            $batch.Url | Should -Be "$site/batches/$($batch.Id)"
            foreach ($job in $batch | Get-BatchJob) { $job.Url | Should -Be "$site/batches/$($batch.Id)/jobs/$($job.JobId)" }
        }
        (Get-Batch -Id $subBatch[0].Id).Url | Should -Be "$site/batches/$($subBatch[0].Id)"
    }

    It 'has the driver print "Submitted batch N, see" the sub-batch page' {
        $driverLog = @($run | Get-BatchJob | Get-BatchJobLog)
        $driverLog | Should -Contain "Submitted batch $($subBatch[0].Id), see $site/batches/$($subBatch[0].Id)"
    }

    It 'shows the Url in Format-List and keeps it out of the default table' {
        ($run | Format-List | Out-String) | Should -Match ([regex]::Escape("Url") + '\s*: ' + [regex]::Escape("$site/batches/$($run.DriverBatchId)"))
        ($subBatch | Format-List | Out-String) | Should -Match ([regex]::Escape("$site/batches/$($subBatch[0].Id)"))
        ($subBatch | Out-String) | Should -Not -Match 'http://'
        ($run | Out-String) | Should -Not -Match 'http://'
        ($subBatch | Get-BatchJob | Out-String) | Should -Not -Match 'http://'
    }

    It 'Show-Batch opens the driver batch of a piped run in $BROWSER, the address as one argument' {
        $browser = New-TestBrowser $world
        $env:BROWSER = $browser
        try { $written = @($run | Show-Batch) } finally { Remove-Item Env:BROWSER }
        $written | Should -BeNullOrEmpty
        Get-TestBrowserArguments $browser | Should -Be @("$site/batches/$($run.DriverBatchId)")
    }

    It 'Show-Batch opens a piped job''s page, and with -PassThru also writes the addresses' {
        $browser = New-TestBrowser $world
        $env:BROWSER = "$browser --new-tab %s"
        try {
            $job = $subBatch | Get-BatchJob | Where-Object JobId -eq 2
            $written = @($job | Show-Batch -PassThru)
        } finally { Remove-Item Env:BROWSER }
        $written | Should -Be @("$site/batches/$($subBatch[0].Id)/jobs/2")
        Get-TestBrowserArguments $browser | Should -Be @('--new-tab', "$site/batches/$($subBatch[0].Id)/jobs/2")
    }

    It 'Show-AnalysisLog opens the test log of a piped run''s dataset, and main for standard' {
        $browser = New-TestBrowser $world
        $env:BROWSER = $browser
        try {
            $run | Show-AnalysisLog
            Show-AnalysisLog -Dataset fewgenomes -AccessLevel standard
        } finally { Remove-Item Env:BROWSER }
        Get-TestBrowserArguments $browser | Should -Be @("$site/analysis-runner/fewgenomes-test", "$site/analysis-runner/fewgenomes-main")
    }

    It 'without a browser writes the address instead' {
        $saved = @{ BROWSER = $env:BROWSER; DISPLAY = $env:DISPLAY; WAYLAND_DISPLAY = $env:WAYLAND_DISPLAY }
        foreach ($name in $saved.Keys) { Remove-Item "Env:$name" -ErrorAction SilentlyContinue }
        try {
            Show-Batch $run.DriverBatchId, $subBatch[0].Id | Should -Be @("$site/batches/$($run.DriverBatchId)", "$site/batches/$($subBatch[0].Id)")
            Show-AnalysisLog fewgenomes full | Should -Be "$site/analysis-runner/fewgenomes-main"
        } finally {
            foreach ($name in $saved.Keys) { if ($null -ne $saved[$name]) { Set-Item "Env:$name" $saved[$name] } }
        }
    }

    It 'escapes what the user typed into one path segment: nothing of it reaches a shell or another argument' {
        $browser = New-TestBrowser $world
        $env:BROWSER = $browser
        try { Show-AnalysisLog -Dataset 'a b;$(touch pwned)/../x' } finally { Remove-Item Env:BROWSER }
        Get-TestBrowserArguments $browser | Should -Be @("$site/analysis-runner/a%20b%3B%24%28touch%20pwned%29%2F..%2Fx-test")
        Test-Path (Join-Path (Get-Location) 'pwned') | Should -BeFalse
    }

    It 'reports a browser that fails as BrowserFailed' {
        $browser = New-TestBrowser $world -ExitCode 3
        $env:BROWSER = $browser
        try { Show-Batch $run.DriverBatchId -ErrorVariable failed -ErrorAction SilentlyContinue } finally { Remove-Item Env:BROWSER }
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'BrowserFailed,*'
        $failed[0].TargetObject | Should -Be "$site/batches/$($run.DriverBatchId)"
        @(Get-Content "$browser.runs").Count | Should -Be 1
    }
}

Describe 'Without a web address' {
    BeforeAll {
        $world = New-TestWorld
        Push-Location (Join-Path $world.Checkout 'examples/bash')
        $info = $null
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Bash' `
            -OutputDir 'onboarding/tester/nolinks' hello.sh tester -InformationVariable info
    }
    AfterAll { Pop-Location; Remove-TestWorld $world }

    It 'runs, batches and jobs have no Url and Submit-Analysis prints no link' {
        $run.Url | Should -BeNullOrEmpty
        (Get-Batch -Id $run.DriverBatchId).Url | Should -BeNullOrEmpty
        ($run | Get-BatchJob).Url | Should -BeNullOrEmpty
        ($info | Out-String) | Should -Not -Match 'Request submitted successfully'
    }

    It 'Show-Batch and Show-AnalysisLog end with WebAddressNotConfigured, naming the settings file' {
        foreach ($show in { $run | Show-Batch }, { Show-AnalysisLog -Dataset fewgenomes }) {
            $failure = $null
            try { & $show } catch { $failure = $_ }
            $failure | Should -Not -BeNullOrEmpty
            $failure.FullyQualifiedErrorId | Should -BeLike 'WebAddressNotConfigured,*'
            $failure.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $failure.TargetObject | Should -Be (Join-Path $world.Home 'settings.toml')
        }
    }
}

Describe 'A web address that is not a plain http or https page address' {
    BeforeAll { $world = New-TestWorld }
    AfterAll { Remove-TestWorld $world }

    It 'refuses <_> with InvalidWebAddress, ending the command' -ForEach @(
        'ftp://127.0.0.1/', '127.0.0.1:5080', '/batches', 'javascript:alert(1)', 'http://alice:secret@127.0.0.1:5080',
        'http://127.0.0.1:5080/?next=https://evil.example', 'http://127.0.0.1:5080/#x', 'file:///etc/passwd') {
        $address = $_
        Set-TestWebAddress $world $address
        $failure = $null
        try { Get-Batch } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike 'InvalidWebAddress,*'
        # A password in the address is never repeated.
        $failure.TargetObject | Should -Be ($address -replace 'alice:secret@', '')
        "$failure" | Should -Not -Match 'secret'
    }

    It 'refuses a [web] table with another key, or a url that is not text, as InvalidSettings' {
        foreach ($settings in "[web]`nurls = `"http://127.0.0.1:5080`"", "[web]`nurl = 5080") {
            $world.StorageSettings = $settings
            Write-TestSettings $world
            $failure = $null
            try { Get-Batch } catch { $failure = $_ }
            $failure.FullyQualifiedErrorId | Should -BeLike 'InvalidSettings,*'
        }
    }

    It 'accepts https with a path prefix, as a server behind a proxy has' {
        Set-TestWebAddress $world 'https://runner.example.org/ar'
        $env:BROWSER = $null
        Remove-Item Env:DISPLAY, Env:WAYLAND_DISPLAY -ErrorAction SilentlyContinue
        Show-Batch 7 | Should -Be 'https://runner.example.org/ar/batches/7'
    }
}
