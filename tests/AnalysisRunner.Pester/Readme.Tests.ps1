# The README's examples, run as written: the session under "Using it" in a fresh pwsh whose home
# holds ~/src/my-analysis and ~/.analysis-runner; -Task Install into a fresh module folder; the demo.

BeforeAll {
    Import-Module AnalysisRunner -Force
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $script:repo = Join-Path $PSScriptRoot '../..' | Resolve-Path | Select-Object -ExpandProperty Path

    <# Runs a script in a new pwsh with the given environment changes ($null removes a variable); returns exit code and output. #>
    function Invoke-FreshPwsh([string] $Script, [hashtable] $Environment = @{}, [string] $WorkingDirectory = $script:repo) {
        $pwsh = (Get-Process -Id $PID).Path
        $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($word in '-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'`n$Script") { $start.ArgumentList.Add($word) }
        $start.WorkingDirectory = $WorkingDirectory
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.Environment['NO_COLOR'] = '1'
        foreach ($name in $Environment.Keys) {
            if ($null -eq $Environment[$name]) { $start.Environment.Remove($name) | Out-Null } else { $start.Environment[$name] = $Environment[$name] }
        }
        $process = [System.Diagnostics.Process]::Start($start)
        $stderr = $process.StandardError.ReadToEndAsync()
        $stdout = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout + $stderr.Result }
    }

    <# The first ```powershell block after a README heading. #>
    function Get-ReadmeBlock([string] $Heading) {
        $text = Get-Content (Join-Path $script:repo 'README.md') -Raw
        $after = $text.Substring($text.IndexOf("## $Heading"))
        [regex]::Match($after, '(?s)```powershell\n(.*?)\n```').Groups[1].Value
    }
}

Describe 'The README session under "Using it"' {
    BeforeAll {
        # A user's home: ~/src/my-analysis is a checkout of the examples whose origin the registry in
        # ~/.analysis-runner allowlists for fewgenomes, with alice@example.org a member at test.
        $world = New-TestWorld -Email 'alice@example.org' -TestMembers 'alice@example.org'
        $userHome = Join-Path $world.Root 'user'
        New-Item -ItemType Directory (Join-Path $userHome 'src') | Out-Null
        Move-Item $world.Checkout (Join-Path $userHome 'src/my-analysis')
        $runnerHome = Join-Path $userHome '.analysis-runner'
        Move-Item $world.Home $runnerHome
        $block = Get-ReadmeBlock 'Using it'
        # As typed at the prompt: each statement is its own pipeline, shown by Out-Default.
        $session = @'
$tokens = $errors = $null
$parsed = [System.Management.Automation.Language.Parser]::ParseInput($env:README_BLOCK, [ref] $tokens, [ref] $errors)
foreach ($statement in $parsed.EndBlock.Statements) { . ([scriptblock]::Create($statement.Extent.Text)) | Out-Default }
'@
        $result = Invoke-FreshPwsh $session -Environment @{ HOME = $userHome; AR_HOME = $null; README_BLOCK = $block } -WorkingDirectory $userHome
    }
    AfterAll {
        Stop-TestExecutor @{ Home = $runnerHome }
        Remove-TestWorld $world
    }

    It 'is the session the README shows' {
        $block | Should -Match 'cd ~/src/my-analysis/examples/batch'
        $block | Should -Match 'Get-StorageContent gs://cpg-fewgenomes-test/onboarding/alice/hello-world/out.txt'
    }

    It 'runs without an error, as written' {
        $result.ExitCode | Should -Be 0 -Because $result.Output
    }

    It 'reads the out.txt hello.ps1 wrote, runs the run again, and shows the -WhatIf plan' {
        $result.Output | Should -Match '(?m)^Hello, alice$'
        ([regex]::Matches($result.Output, 'Submitted run [0-9a-f-]{36} \(driver batch \d+\)')).Count | Should -Be 2
        $result.Output | Should -Match 'Refused\s+: no: every check passed'
    }

    It 'used ~/.analysis-runner as the runner home' {
        Join-Path $runnerHome 'runner.db' | Should -Exist
        @(Get-AnalysisLog -RunnerHome $runnerHome).Count | Should -Be 2
    }
}

Describe 'build.ps1 -Task Install' -Tag Slow {
    BeforeAll {
        $root = New-TestRoot
        $environment = @{ HOME = $root; XDG_DATA_HOME = (Join-Path $root 'share') }
    }
    AfterAll { Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }

    It 'puts the module where any pwsh finds it, help included' {
        $install = Invoke-FreshPwsh "& ./build.ps1 -Task Install -NoBuild" -Environment $environment
        $install.ExitCode | Should -Be 0 -Because $install.Output
        $version = (Import-PowerShellDataFile (Join-Path $script:repo 'module/AnalysisRunner.psd1')).ModuleVersion
        $installed = Join-Path $root "share/powershell/Modules/AnalysisRunner/$version"
        $install.Output | Should -Match ([regex]::Escape($installed))

        # A pwsh with no PSModulePath of ours: only the defaults, the user's module folder among them.
        $environment['PSModulePath'] = $null
        $used = Invoke-FreshPwsh 'Import-Module AnalysisRunner; (Get-Module AnalysisRunner).ModuleBase; (Get-Help Submit-Analysis).Synopsis' -Environment $environment -WorkingDirectory $root
        $used.ExitCode | Should -Be 0 -Because $used.Output
        $used.Output | Should -Match ([regex]::Escape($installed))
        $used.Output | Should -Match 'Runs the committed script'
    }
}

Describe 'The demo' -Tag Slow {
    It 'runs the onboarding exercise and leaves no folder behind' {
        $demo = Invoke-FreshPwsh "& ./examples/demo.ps1" -Environment @{ AR_HOME = $null }
        $demo.ExitCode | Should -Be 0 -Because $demo.Output
        $demo.Output | Should -Match 'Hello, demo-user!'
        $demo.Output | Should -Match "(?m)^Hello, demo-user$"
        $folder = [regex]::Match($demo.Output, "Removed the demo's folder (\S+)").Groups[1].Value
        $folder | Should -Not -BeNullOrEmpty
        $folder | Should -Not -Exist
    }
}
