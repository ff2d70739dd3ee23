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

# A run's driver under [executor] sandbox = "bubblewrap": it sees its checkout, its config and its run's
# buckets, and reaches the executor only through its batch's run channel. The committed driver below is
# the attacker: each attempt prints one 'ATTACK <name>: <what happened>' line the Its then judge.
Describe 'A run''s driver in its sandbox, reaching the executor only through its run channel' {
    BeforeAll {
        if (-not (Test-Path /usr/bin/bwrap)) { throw 'These tests need bubblewrap (apt-get install bubblewrap).' }
        $world = New-TestWorld
        $world.StorageSettings = "[executor]`nsandbox = `"bubblewrap`""
        Write-TestSettings $world
        Push-Location $world.Checkout
        # Another run of the same user, whose batches and token the attacker goes after.
        Push-Location (Join-Path $world.Checkout 'examples/powershell')
        $victim = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'victim' -OutputDir 'victim' hello.ps1 -NameToPrint victim -Wait 6>$null
        Pop-Location
        Add-TestCommit -World $world -Path 'examples/attack/driver.ps1' -Content @'
param([string] $VictimArGuid, [long] $VictimBatch)
function Say([string] $Name, $What) { "ATTACK ${Name}: $What" }
function Id($Record) { if ($Record -is [System.Management.Automation.ErrorRecord]) { $Record.FullyQualifiedErrorId -replace ',.*$', '' } else { "no error: $Record" } }
# Raw messages on the channel: a 4-byte big-endian length, then that much JSON.
function Send-Raw([byte[]] $Bytes) {
    $socket = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Unspecified)
    try {
        $socket.Connect([Net.Sockets.UnixDomainSocketEndPoint]::new($env:AR_RUN_CHANNEL))
        $socket.Send($Bytes) | Out-Null
        $socket.Shutdown([Net.Sockets.SocketShutdown]::Send)
        $header = [byte[]]::new(4); $got = 0
        while ($got -lt 4) { $n = $socket.Receive($header, $got, 4 - $got, 'None'); if ($n -eq 0) { return 'closed' }; $got += $n }
        $length = [Buffers.Binary.BinaryPrimitives]::ReadInt32BigEndian($header)
        $body = [byte[]]::new($length); $got = 0
        while ($got -lt $length) { $n = $socket.Receive($body, $got, $length - $got, 'None'); if ($n -eq 0) { break }; $got += $n }
        $answer = [Text.Encoding]::UTF8.GetString($body, 0, $got) | ConvertFrom-Json
        if ($answer.problem) { $answer.problem.errorId } else { 'answered: ' + ($answer.result | ConvertTo-Json -Compress -Depth 3) }
    } finally { $socket.Dispose() }
}
function Send-Json([string] $Json) {
    $body = [Text.Encoding]::UTF8.GetBytes($Json)
    $header = [byte[]]::new(4); [Buffers.Binary.BinaryPrimitives]::WriteInt32BigEndian($header, $body.Length)
    Send-Raw ($header + $body)
}

Say key ([string](Test-Path (Join-Path $env:AR_HOME 'keys/run-token.key')))
Say database ([string](Test-Path (Join-Path $env:AR_HOME 'runner.db')))
Say registry ([string](Test-Path (Join-Path $env:AR_HOME 'registry.toml')))
Say executor-socket ([string](Test-Path (Join-Path $env:AR_HOME 'executor.sock')))
Say other-channels (@(Get-ChildItem /tmp, /run -Recurse -Force -ErrorAction SilentlyContinue | Where-Object Name -like '*.sock' | ForEach-Object FullName) -join ',')

# Scope through attributes: refused by New-Batch, and again by the executor when sent raw.
$e = $null; try { New-Batch -Attributes @{ dataset = 'other'; access_level = 'standard' } -ErrorAction Stop | Out-Null } catch { $e = $_ }
Say attributes (Id $e)
$spec = @{ name = 'widen'; tmpRoot = '/tmp'; attributes = @{ dataset = 'other'; access_level = 'standard' }; jobs = @(@{ index = 0; name = 'j'; commands = @('true') }) }
Say raw-attributes (Send-Json (@{ op = 'submit'; spec = $spec } | ConvertTo-Json -Depth 6 -Compress))
$spec.attributes = @{}; $spec.arGuid = $VictimArGuid
Say raw-arguid (Send-Json (@{ op = 'submit'; spec = $spec } | ConvertTo-Json -Depth 6 -Compress))
$spec.Remove('arGuid'); $spec.jobs[0].checkout = @{ cloneUrl = '/etc'; commit = ('0' * 40); cwd = '.' }
Say raw-checkout (Send-Json (@{ op = 'submit'; spec = $spec } | ConvertTo-Json -Depth 6 -Compress))

# Another run's batches, and another run's token: the channel answers for this batch's run only.
$e = $null; try { Get-BatchJob -BatchId $VictimBatch -ErrorAction Stop | Out-Null } catch { $e = $_ }
Say victim-jobs (Id $e)
$e = $null; try { Get-BatchJobLog -BatchId $VictimBatch -JobId 1 -ErrorAction Stop | Out-Null } catch { $e = $_ }
Say victim-log (Id $e)
Say victim-wait (Send-Json (@{ op = 'wait'; batchIds = @($VictimBatch) } | ConvertTo-Json -Compress))
$env:AR_RUN_TOKEN = $VictimArGuid + '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
$b = New-Batch -Name forged
$b | Add-BatchJob -Name 'whoami' | Add-BatchJobCommand 'echo sub-batch ran'
$sub = $b | Submit-Batch -Wait -Timeout 120
Say forged-token-batch "$($sub.ArGuid) $($sub.Attributes['dataset']) $($sub.Attributes['access_level']) $($sub.State)"
Say sub-log ((Get-BatchJob -BatchId $sub.Id | Get-BatchJobLog) -join '|')

# Malformed and oversized messages.
Say oversized (Send-Raw ([byte[]](0x7f, 0xff, 0xff, 0xff)))
Say malformed (Send-Json 'not json at all')
Say unknown-op (Send-Json '{"op":"dropTables"}')
Say truncated (Send-Raw ([byte[]](0, 0, 0, 50) + [Text.Encoding]::UTF8.GetBytes('{"op":')))
Say whoami (Send-Json '{"op":"whoami"}')
'driver done'
'@ | Out-Null
        Push-Location (Join-Path $world.Checkout 'examples/attack')
        $run = Submit-Analysis -Dataset fewgenomes -AccessLevel test -Description 'attack' -OutputDir 'attack' driver.ps1 -VictimArGuid $victim.ArGuid -VictimBatch $victim.DriverBatchId 6>$null
        $batches = @($run | Wait-Batch -Timeout 300 -ErrorAction SilentlyContinue)
        $driverLog = @(Get-BatchJob -BatchId $run.DriverBatchId | Get-BatchJobLog)
        $said = @{}
        foreach ($line in $driverLog) { if ($line -match '^ATTACK ([a-z-]+): ?(.*)$') { $said[$Matches[1]] = $Matches[2] } }
    }
    AfterAll { Pop-Location; Pop-Location; Remove-TestWorld $world }

    It 'the driver ran to its end, sandboxed' {
        $driverLog | Should -Contain 'driver done' -Because ($driverLog -join "`n")
        $victim.ArGuid | Should -Not -Be $run.ArGuid
    }

    It 'finds no run-token key, database, registry or executor socket, and no other batch''s channel' {
        $said['key'] | Should -Be 'False'
        $said['database'] | Should -Be 'False'
        $said['registry'] | Should -Be 'False'
        $said['executor-socket'] | Should -Be 'False'
        $said['other-channels'] | Should -Be '/run/analysis-runner/run.sock'
    }

    It 'cannot widen its scope with attributes, another run''s ar_guid or a checkout, through the cmdlets or raw on the channel' {
        $said['attributes'] | Should -Be 'ProtectedBatchAttribute'
        $said['raw-attributes'] | Should -Be 'ProtectedBatchAttribute'
        $said['raw-arguid'] | Should -Be 'ProtectedBatchAttribute'
        $said['raw-checkout'] | Should -Be 'JobCheckoutNotAllowed'
        # Nothing of those was stored: the run has its driver batch and the one honest sub-batch only.
        @(Get-Batch -ArGuid $run.ArGuid).Count | Should -Be 2
        @(Get-Batch -First 100 | Where-Object Name -eq 'widen').Count | Should -Be 0
    }

    It 'cannot read or wait on another run''s batches' {
        $said['victim-jobs'] | Should -Be 'BatchOutsideRun'
        $said['victim-log'] | Should -Be 'BatchOutsideRun'
        $said['victim-wait'] | Should -Be 'BatchOutsideRun'
    }

    It 'gets its own run''s scope for a sub-batch whatever token it holds' {
        $said['forged-token-batch'] | Should -Be "$($run.ArGuid) fewgenomes test Succeeded"
        $said['sub-log'] | Should -Be 'sub-batch ran'
    }

    It 'is refused oversized, malformed, truncated and unknown messages, and the channel still answers after them' {
        $said['oversized'] | Should -Be 'RunChannelMessageTooLarge'
        $said['malformed'] | Should -Be 'RunChannelMessageInvalid'
        $said['unknown-op'] | Should -Be 'RunChannelRequestUnknown'
        $said['truncated'] | Should -Be 'RunChannelMessageInvalid'
        $said['whoami'] | Should -Match ([regex]::Escape("`"arGuid`":`"$($run.ArGuid)`""))
    }
}
