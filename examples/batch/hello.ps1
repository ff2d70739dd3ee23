# The seed's hello.py in PowerShell: a batch of two jobs where the second reads the first's output
# and writes it to the run's output folder.
#   Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'Run Batch' -OutputDir "onboarding/$me/hello-world" hello.ps1 -NameToPrint $me
param([string] $NameToPrint)

$config = Get-CpgConfig                           # this run's config, from CPG_CONFIG_PATH, like get_config()
$outputDir = "$($config.storage.default.default)/$($config.workflow.output_prefix)"

$b  = New-Batch                                   # belongs to this run (its capability, AR_RUN_TOKEN), like get_batch()
$j1 = $b | Add-BatchJob -Name 'first job'
$j1 | Add-BatchJobCommand "echo $(ConvertTo-ShellLiteral "Hello, $NameToPrint") > $($j1.Out)"
$j2 = $b | Add-BatchJob -Name 'second job'
$j2 | Add-BatchJobCommand "cat $($j1.Out) | tee $($j2.Out)"   # using j1's resource alone makes j2 depend on j1
$j2 | Write-BatchOutput $j2.Out "$outputDir/out.txt"          # copied there once j2 succeeds
$b | Submit-Batch | Out-Null                      # returns at once; -Wait waits
