# The onboarding exercise in PowerShell:
#   Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run PowerShell' -OutputDir "onboarding/$me/hello-world" hello.ps1 -NameToPrint $me
param(
    [Parameter(Mandatory)]
    [string] $NameToPrint
)
Write-Output "Hello, $NameToPrint!"
