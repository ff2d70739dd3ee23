<#
.SYNOPSIS
    Writes the module's MAML help (en-US/AnalysisRunner.PowerShell.dll-Help.xml) from docs/help/*.md
    and the cmdlets' own metadata.
.DESCRIPTION
    The words come from one markdown file per cmdlet (docs/help/<Cmdlet>.md, laid out as platyPS lays
    it out: SYNOPSIS, DESCRIPTION, EXAMPLES, PARAMETERS, INPUTS, OUTPUTS, NOTES, RELATED LINKS) plus
    docs/help/_shared.md for parameters every cmdlet has. Everything the code already says (parameter
    sets, types, positions, mandatory, pipeline input, aliases, allowed values, wildcards) comes from
    the loaded cmdlets, so the help cannot drift from them.

    It refuses, naming file and parameter, a cmdlet with no file, a file with no cmdlet, a parameter
    with no description, a description of a parameter the cmdlet does not have, and a cmdlet without
    a synopsis, a description or an example. build.ps1 -Task Build runs it in a fresh pwsh.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $Source,
    [Parameter(Mandatory)] [string] $Destination
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters +
    [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
$problems = [System.Collections.Generic.List[string]]::new()

<# A markdown file as sections: '## NAME' → text, and '### sub' → text within the sections that have them. #>
function Read-HelpMarkdown([string] $Path) {
    $sections = [ordered]@{}
    $section = $null; $sub = $null; $inCode = $false
    foreach ($line in Get-Content $Path) {
        if ($line -match '^```') { $inCode = -not $inCode }
        if (-not $inCode -and $line -match '^## (.+)$') {
            $section = $Matches[1].Trim(); $sub = $null
            $sections[$section] = [ordered]@{ '' = [System.Collections.Generic.List[string]]::new() }
            continue
        }
        if (-not $inCode -and $section -and $line -match '^### (.+)$') {
            $sub = $Matches[1].Trim()
            $sections[$section][$sub] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($section) { $sections[$section][$(if ($sub) { $sub } else { '' })].Add($line) }
    }
    $sections
}

<# Paragraphs: runs of non-blank lines joined with spaces (a code fence is left out). #>
function ConvertTo-Paragraphs($Lines) {
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    foreach ($line in @($Lines) + '') {
        if ([string]::IsNullOrWhiteSpace($line)) {
            if ($current.Count) { $paragraphs.Add(($current -join ' ').Trim()); $current.Clear() }
        }
        else { $current.Add($line.Trim()) }
    }
    $paragraphs.ToArray()
}

<# A parameter's text: its paragraphs, and the default from a last 'Default value: …' line. #>
function Split-ParameterText($Lines) {
    $paragraphs = @(ConvertTo-Paragraphs $Lines)
    $default = $null
    if ($paragraphs.Count -and $paragraphs[-1] -match '^Default value: (.+)$') {
        $default = $Matches[1]
        $paragraphs = @($paragraphs | Select-Object -SkipLast 1)
    }
    [pscustomobject]@{ Paragraphs = $paragraphs; Default = $default }
}

function Get-Example([string] $Title, $Lines) {
    $code = [System.Collections.Generic.List[string]]::new()
    $rest = [System.Collections.Generic.List[string]]::new()
    $inCode = $false
    foreach ($line in $Lines) {
        if ($line -match '^```') { $inCode = -not $inCode; continue }
        if ($inCode) { $code.Add($line) } else { $rest.Add($line) }
    }
    [pscustomobject]@{ Title = $Title; Code = ($code -join "`n").Trim(); Remarks = @(ConvertTo-Paragraphs $rest) }
}

function Get-TypeName([type] $Type) {
    if ($Type.IsArray) { return (Get-TypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { return Get-TypeName $Type.GetGenericArguments()[0] }
    $Type.Name
}

function Get-PipelineInput($Attributes) {
    $how = @(
        if ($Attributes.Where({ $_.ValueFromPipeline }, 'First')) { 'ByValue' }
        if ($Attributes.Where({ $_.ValueFromPipelineByPropertyName }, 'First')) { 'ByPropertyName' }
    )
    if ($how) { "True ($($how -join ', '))" } else { 'False' }
}

Import-Module $ModuleManifest -Force
$moduleName = (Import-PowerShellDataFile $ModuleManifest).RootModule -replace '\.dll$'
$cmdlets = @(Get-Command -Module (Get-Module | Where-Object Path -like "*$moduleName.dll").Name -CommandType Cmdlet | Sort-Object Name)

$shared = (Read-HelpMarkdown (Join-Path $Source '_shared.md'))['PARAMETERS']
$files = @(Get-ChildItem $Source -Filter '*.md' | Where-Object Name -notlike '_*')
foreach ($file in $files) {
    if ($file.BaseName -notin $cmdlets.Name) { $problems.Add("$($file.Name) documents $($file.BaseName), which the module does not export.") }
}

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
New-Item -ItemType Directory -Force (Split-Path $Destination) | Out-Null
$xml = [System.Xml.XmlWriter]::Create($Destination, $settings)
$ns = @{
    maml = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
function Open([string] $Name) { $prefix, $local = $Name -split ':'; $xml.WriteStartElement($prefix, $local, $ns[$prefix]) }
function Close { $xml.WriteEndElement() }
function Text([string] $Name, [string] $Value) { Open $Name; $xml.WriteString($Value); Close }
function Paragraphs([string] $Name, $Values) { Open $Name; foreach ($p in $Values) { Text 'maml:para' $p }; Close }

$xml.WriteStartDocument()
$xml.WriteStartElement('helpItems', 'http://msh')
$xml.WriteAttributeString('schema', 'maml')
foreach ($cmdlet in $cmdlets) {
    $path = Join-Path $Source "$($cmdlet.Name).md"
    if (-not (Test-Path $path)) { $problems.Add("$($cmdlet.Name) has no help: write docs/help/$($cmdlet.Name).md."); continue }
    $doc = Read-HelpMarkdown $path
    $where = "docs/help/$($cmdlet.Name).md"
    $section = { param($name) if ($doc.Contains($name)) { $doc[$name] } else { [ordered]@{ '' = @() } } }

    $synopsis = @(ConvertTo-Paragraphs (& $section 'SYNOPSIS')[''])
    $description = @(ConvertTo-Paragraphs (& $section 'DESCRIPTION')[''])
    $examplesSection = & $section 'EXAMPLES'
    $examples = @(foreach ($title in @($examplesSection.Keys | Where-Object { $_ })) { Get-Example $title $examplesSection[$title] })
    if (-not $synopsis) { $problems.Add("${where}: no SYNOPSIS.") }
    if (-not $description) { $problems.Add("${where}: no DESCRIPTION.") }
    if (-not $examples) { $problems.Add("${where}: no example under EXAMPLES.") }
    foreach ($example in $examples) {
        if (-not $example.Code -or -not $example.Remarks) { $problems.Add("${where}: example '$($example.Title)' needs a code block and a sentence saying what it does.") }
    }

    # Parameter texts: the cmdlet's own file, else _shared.md; none for a parameter the cmdlet lacks.
    $documented = & $section 'PARAMETERS'
    $texts = @{}
    foreach ($heading in @($shared.Keys | Where-Object { $_ }) + @($documented.Keys | Where-Object { $_ })) {
        $name = $heading.TrimStart('-')
        $lines = if ($documented.Contains($heading)) { $documented[$heading] } else { $shared[$heading] }
        if ($cmdlet.Parameters.ContainsKey($name)) { $texts[$name] = Split-ParameterText $lines }
        elseif ($documented.Contains($heading)) { $problems.Add("${where}: describes -$name, which $($cmdlet.Name) does not have.") }
    }
    $parameters = @($cmdlet.Parameters.Values | Where-Object { $_.Name -notin $commonParameters -or $texts.ContainsKey($_.Name) })
    foreach ($parameter in $parameters) {
        if (-not $texts.ContainsKey($parameter.Name) -or -not $texts[$parameter.Name].Paragraphs) {
            $problems.Add("${where}: -$($parameter.Name) of $($cmdlet.Name) has no description (add '### -$($parameter.Name)' under PARAMETERS).")
            $texts[$parameter.Name] = [pscustomobject]@{ Paragraphs = @(); Default = $null }
        }
    }

    $writeParameter = {
        param($Parameter, $Attributes)
        $text = $texts[$Parameter.Name]
        $isSwitch = $Parameter.ParameterType -eq [switch]
        $positions = @($Attributes.Where({ $_.Position -ge 0 }).ForEach('Position'))
        Open 'command:parameter'
        $required = $Attributes.Count -gt 0 -and -not $Attributes.Where({ -not $_.Mandatory }, 'First')
        $xml.WriteAttributeString('required', "$required".ToLowerInvariant())
        $xml.WriteAttributeString('variableLength', 'true')
        $xml.WriteAttributeString('globbing', "$([bool]$Parameter.Attributes.Where({ $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }, 'First'))".ToLowerInvariant())
        $xml.WriteAttributeString('pipelineInput', (Get-PipelineInput $Attributes))
        $xml.WriteAttributeString('position', $(if ($positions.Count) { "$($positions[0])" } else { 'named' }))
        $xml.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
        Text 'maml:name' $Parameter.Name
        Paragraphs 'maml:description' $text.Paragraphs
        $allowed = @(foreach ($attribute in $Parameter.Attributes) { if ($attribute -is [System.Management.Automation.ValidateSetAttribute]) { $attribute.ValidValues } })
        if ($allowed) {
            Open 'command:parameterValueGroup'
            foreach ($value in $allowed) {
                Open 'command:parameterValue'; $xml.WriteAttributeString('required', 'false'); $xml.WriteAttributeString('variableLength', 'false')
                $xml.WriteString($value); Close
            }
            Close
        }
        if (-not $isSwitch) {
            Open 'command:parameterValue'; $xml.WriteAttributeString('required', 'true'); $xml.WriteAttributeString('variableLength', 'false')
            $xml.WriteString((Get-TypeName $Parameter.ParameterType)); Close
        }
        Open 'dev:type'; Text 'maml:name' $Parameter.ParameterType.FullName; Open 'maml:uri'; Close; Close
        Text 'dev:defaultValue' $(if ($text.Default) { $text.Default } elseif ($isSwitch) { 'False' } else { 'None' })
        Close
    }
    $attributesOf = {
        param($Parameter, [string] $SetName)
        , @($Parameter.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] -and ($_.ParameterSetName -eq $SetName -or $_.ParameterSetName -eq '__AllParameterSets' -or -not $SetName) }))
    }

    Open 'command:command'
    $xml.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $xml.WriteAttributeString('xmlns', 'command', $null, $ns.command)
    $xml.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    Open 'command:details'
    Text 'command:name' $cmdlet.Name
    Text 'command:verb' $cmdlet.Verb
    Text 'command:noun' $cmdlet.Noun
    Paragraphs 'maml:description' $synopsis
    Close
    Paragraphs 'maml:description' $description

    Open 'command:syntax'
    foreach ($set in @($cmdlet.ParameterSets | Sort-Object { -not $_.IsDefault })) {
        Open 'command:syntaxItem'
        Text 'maml:name' $cmdlet.Name
        # As PowerShell writes syntax: positional by position, then mandatory, then the rest, each in declaration order.
        $own = @($set.Parameters | Where-Object { $_.Name -notin $commonParameters -or $texts.ContainsKey($_.Name) })
        $inSet = @($own | Where-Object Position -ge 0 | Sort-Object Position) +
            @($own | Where-Object { $_.Position -lt 0 -and $_.IsMandatory }) +
            @($own | Where-Object { $_.Position -lt 0 -and -not $_.IsMandatory })
        foreach ($p in $inSet) { & $writeParameter $cmdlet.Parameters[$p.Name] (& $attributesOf $cmdlet.Parameters[$p.Name] $set.Name) }
        Close
    }
    Close

    Open 'command:parameters'
    foreach ($parameter in $parameters | Sort-Object Name) { & $writeParameter $parameter (& $attributesOf $parameter $null) }
    Close

    foreach ($pair in @(@('INPUTS', 'command:inputTypes', 'command:inputType'), @('OUTPUTS', 'command:returnValues', 'command:returnValue'))) {
        $typesSection = & $section $pair[0]
        Open $pair[1]
        foreach ($typeName in @($typesSection.Keys | Where-Object { $_ })) {
            Open $pair[2]
            Open 'dev:type'; Text 'maml:name' $typeName; Close
            Paragraphs 'maml:description' @(ConvertTo-Paragraphs $typesSection[$typeName])
            Close
        }
        Close
    }

    Open 'maml:alertSet'
    Open 'maml:alert'
    foreach ($p in @(ConvertTo-Paragraphs (& $section 'NOTES')[''])) { Text 'maml:para' $p }
    Close
    Close

    Open 'command:examples'
    $n = 0
    foreach ($example in $examples) {
        $n++
        Open 'command:example'
        Text 'maml:title' "-------------------------- $($example.Title) --------------------------"
        Text 'dev:code' $example.Code
        Paragraphs 'dev:remarks' $example.Remarks
        Close
    }
    Close

    Open 'command:relatedLinks'
    foreach ($line in (& $section 'RELATED LINKS')['']) {
        if ($line -notmatch '^\s*-\s*(.+)$') { continue }
        Open 'maml:navigationLink'; Text 'maml:linkText' $Matches[1].Trim(); Open 'maml:uri'; Close; Close
    }
    Close
    Close
}
$xml.WriteEndElement()
$xml.WriteEndDocument()
$xml.Dispose()

if ($problems.Count) {
    Remove-Item $Destination -ErrorAction SilentlyContinue
    # One line each on stderr, unwrapped, so a build log shows every one whole.
    [Console]::Error.WriteLine("The help in $Source is incomplete:")
    foreach ($problem in $problems) { [Console]::Error.WriteLine("  $problem") }
    exit 1
}
Write-Host "Help for $($cmdlets.Count) cmdlets written to $Destination"
