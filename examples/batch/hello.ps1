# The seed's hello.py in PowerShell: a batch of two jobs where the second reads the first's output.
#   Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' -OutputDir "onboarding/$me/hello-world" hello.ps1 -NameToPrint $me
param([string] $NameToPrint)

$b  = New-Batch                                   # belongs to this run (its capability, AR_RUN_TOKEN), like get_batch()
$j1 = $b | Add-BatchJob -Name 'first job'
$j1 | Add-BatchJobCommand "echo $(ConvertTo-ShellLiteral "Hello, $NameToPrint") > $($j1.Out)"
$j2 = $b | Add-BatchJob -Name 'second job'
$j2 | Add-BatchJobCommand "cat $($j1.Out)"        # using j1's resource alone makes j2 depend on j1
$b | Submit-Batch | Out-Null                      # returns at once; -Wait waits
