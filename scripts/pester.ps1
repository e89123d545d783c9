<#
.SYNOPSIS
    Runs tests/Pester under pwsh against out/Ds01 (called by scripts/pester.sh, which finds pwsh and Pester).
.DESCRIPTION
    Specs tagged RealGpu need NVIDIA hardware; they are excluded by tag and counted as skipped, never as passed.
    Writes NUnit XML to -ResultPath and, as its last line, "pester: N passed, N failed, N skipped".
#>
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [string] $ResultPath = '',
    [string[]] $ExcludeTag = @('RealGpu')
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force

$config = New-PesterConfiguration
$config.Run.Path = Join-Path (Split-Path -Parent $PSScriptRoot) 'tests/Pester'
$config.Run.PassThru = $true
$config.Filter.ExcludeTag = $ExcludeTag
$config.Output.Verbosity = 'Detailed'
if ($ResultPath) {
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = $ResultPath
}
$result = Invoke-Pester -Configuration $config
# A container (file) that failed in BeforeAll counts its tests as failed already; a file that did not even
# load is one failure more, so a broken spec file can never read as "0 failed".
$broken = @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 }).Count
$failed = $result.FailedCount + $broken
$skipped = $result.SkippedCount + $result.NotRunCount
"pester: $($result.PassedCount) passed, $failed failed, $skipped skipped"
exit ([int]($failed -gt 0))
