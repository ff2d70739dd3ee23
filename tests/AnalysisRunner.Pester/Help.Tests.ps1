# Get-Help must explain every AnalysisRunner cmdlet from the module's MAML file (en-US, built from
# docs/help/*.md by tools/New-MamlHelp.ps1), not fall back to the syntax PowerShell generates when a
# cmdlet has no help.

BeforeDiscovery {
    # -ForEach needs the cmdlets while Pester discovers the tests; importing touches no runner home.
    Import-Module AnalysisRunner -Force -ErrorAction Stop
    $commands = @(Get-Command -Module AnalysisRunner -CommandType Cmdlet)
}

BeforeAll {
    $script:previousHome = $env:AR_HOME
    $script:testHome = Join-Path ([IO.Path]::GetTempPath()) ("ar-help-tests-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:testHome | Out-Null
    $env:AR_HOME = $script:testHome
    Import-Module AnalysisRunner -ErrorAction Stop

    $script:commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters +
        [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

AfterAll {
    $env:AR_HOME = $script:previousHome
    if ($script:testHome -and (Test-Path $script:testHome)) { Remove-Item -Recurse -Force $script:testHome }
}

Describe 'The AnalysisRunner module' {
    It 'exports every cmdlet its manifest lists, so the help tests below cover them all' {
        $manifest = Import-PowerShellDataFile (Join-Path (Get-Module AnalysisRunner).ModuleBase 'AnalysisRunner.psd1')
        $exported = (Get-Command -Module AnalysisRunner -CommandType Cmdlet).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }
}

Describe 'Get-Help <_>' -ForEach $commands {
    BeforeAll {
        $command = $_
        $help = Get-Help -Name $command.Name -Full
    }

    It 'has a synopsis that is not just the syntax' {
        $synopsis = "$($help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        # Without help, PowerShell's synopsis is the generated syntax: the name, then [-Parameter] <Type>...
        $synopsis | Should -Not -BeLike "$($command.Name)*"
        $synopsis | Should -Not -Match '\[-\w+\]|<CommonParameters>'
        ($synopsis -split '\s+').Count | Should -BeGreaterOrEqual 5
    }

    It 'has a description' {
        ($help.Description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example that uses the cmdlet and explains itself' {
        $examples = @($help.Examples.Example)
        $examples.Count | Should -BeGreaterOrEqual 1
        foreach ($example in $examples) {
            "$($example.Code)".Trim() | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "$($example.Title) needs remarks"
        }
        ($examples.Code -join "`n") | Should -Match ([regex]::Escape($command.Name))
    }

    It 'describes every parameter except the common ones' {
        $described = @{}
        foreach ($parameter in @($help.Parameters.Parameter)) {
            $described[$parameter.Name] = ($parameter.Description.Text -join ' ').Trim()
        }
        $own = $command.Parameters.Keys | Where-Object { $_ -notin $script:commonParameters }
        $own | Should -Not -BeNullOrEmpty
        foreach ($name in $own) {
            $described.ContainsKey($name) | Should -BeTrue -Because "-$name of $($command.Name) needs help"
            $described[$name] | Should -Not -BeNullOrEmpty -Because "-$name of $($command.Name) needs a description"
        }
    }

    It 'documents no parameter the cmdlet does not have' {
        foreach ($parameter in @($help.Parameters.Parameter)) {
            $command.Parameters.ContainsKey($parameter.Name) |
                Should -BeTrue -Because "the help of $($command.Name) describes -$($parameter.Name)"
        }
    }
}

Describe 'The about topics' {
    It 'Get-Help about_AnalysisRunner returns the concept guide' {
        $topic = Get-Help about_AnalysisRunner
        $topic | Should -Not -BeNullOrEmpty
        @($topic).Count | Should -Be 1
        $topic.Name | Should -Be 'about_AnalysisRunner'
        $text = $topic | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'registry\.toml'
    }

    It 'Get-Help about_AnalysisRunner_Batches returns the batch guide' {
        $topic = Get-Help about_AnalysisRunner_Batches
        $topic.Name | Should -Be 'about_AnalysisRunner_Batches'
        ($topic | Out-String) | Should -Match 'hello\.ps1'
    }
}

Describe 'The help is built from docs/help and the cmdlets' {
    It 'refuses to build help with an undocumented parameter or one the cmdlet does not have, naming both' -Tag Slow {
        # Only the page under test (and the shared one): the others are then reported missing, quickly.
        $source = Join-Path ([IO.Path]::GetTempPath()) ("ar-help-source-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $source | Out-Null
        Copy-Item (Join-Path $PSScriptRoot '../../docs/help/Get-AnalysisLog.md'), (Join-Path $PSScriptRoot '../../docs/help/_shared.md') $source
        try {
            $page = Join-Path $source 'Get-AnalysisLog.md'
            (Get-Content $page -Raw) -replace '### -AccessLevel', '### -Level' | Set-Content $page
            $pwsh = (Get-Process -Id $PID).Path
            $prefix = @(if ((Split-Path $pwsh -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
            $output = & $pwsh @prefix -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot '../../tools/New-MamlHelp.ps1') `
                -ModuleManifest (Join-Path (Get-Module AnalysisRunner).ModuleBase 'AnalysisRunner.psd1') -Source $source `
                -Destination (Join-Path $source 'out/help.xml') 2>&1 | Out-String
            $LASTEXITCODE | Should -Not -Be 0
            $output | Should -Match '-AccessLevel of Get-AnalysisLog has no description'
            $output | Should -Match 'describes -Level, which Get-AnalysisLog does not have'
            $output | Should -Match 'Submit-Analysis has no help: write docs/help/Submit-Analysis.md'
            Join-Path $source 'out/help.xml' | Should -Not -Exist
        }
        finally { Remove-Item -Recurse -Force $source }
    }
}
