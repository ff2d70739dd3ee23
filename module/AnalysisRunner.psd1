@{
    RootModule           = 'AnalysisRunner.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0d3f8e-4a51-4c1b-9f7e-2b1d8a7c9e21'
    Author               = 'AnalysisRunner contributors'
    Description          = 'Runs reviewed, committed analysis code against sensitive datasets: policy checks, per-run config, driver jobs, batches and an audit log.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('AnalysisRunner.format.ps1xml')
    CmdletsToExport      = @(
        'Submit-Analysis'
        'Remove-Batch'
        'Resume-Batch'
        'Get-AnalysisLog'
        'Get-AnalysisUsage'
        'Test-AnalysisLog'
        'Get-CpgConfig'
        'New-Batch'
        'Add-BatchJob'
        'Add-BatchJobCommand'
        'Read-BatchInput'
        'Write-BatchOutput'
        'Submit-Batch'
        'Get-Batch'
        'Get-BatchJob'
        'Get-BatchJobLog'
        'Wait-Batch'
        'Stop-Batch'
        'Show-Batch'
        'Show-AnalysisLog'
        'ConvertTo-ShellLiteral'
        'Get-StorageItem'
        'Get-StorageContent'
        'Copy-StorageItem'
        'Remove-StorageItem'
        'New-AnalysisRunnerToken'
        'Get-AnalysisRunnerToken'
        'Revoke-AnalysisRunnerToken'
        'Set-AnalysisRunnerServer'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{ PSData = @{ Tags = @('genomics', 'batch', 'hail') } }
}
