<#
.SYNOPSIS
    Build entry point for pwsh users. Only calls what dotnet and the scripts already do; CI uses .ci/run.
.EXAMPLE
    ./build.ps1 Build
.EXAMPLE
    ./build.ps1 Build, Test
.EXAMPLE
    ./build.ps1 Package
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Pester', 'Help', 'Package')]
    [string[]] $Task = @('Build'),
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    Write-Host "> $File $($Arguments -join ' ')"
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File exited with $LASTEXITCODE" }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' {
            # leaves an importable module at out/Ds01
            Invoke-Native dotnet @('build', (Join-Path $root 'Ds01.sln'), '-c', $Configuration)
        }
        'Test' {
            # the same command CI runs: unit + integration tests and the PowerShell parse check
            Invoke-Native bash @((Join-Path $root 'scripts/test.sh'))
        }
        'Pester' {
            # the same run CI makes (scripts/pester.sh: pwsh + Pester 5.7.1 from the NuGet feed, RealGpu specs
            # skipped); results under .ci-work, never in the repository root. A missing Pester is an error.
            $results = Join-Path $root '.ci-work/test-results'
            New-Item -ItemType Directory -Force -Path $results | Out-Null
            Invoke-Native bash @((Join-Path $root 'scripts/pester.sh'), (Join-Path $results 'Pester.xml'))
        }
        'Help' {
            # the build generates the MAML help into out/Ds01/en-US
            Invoke-Native dotnet @('build', (Join-Path $root 'Ds01.sln'), '-c', $Configuration)
            Get-ChildItem (Join-Path $root 'out/Ds01/en-US') -ErrorAction SilentlyContinue | ForEach-Object { Write-Host $_.FullName }
        }
        'Package' {
            $module = Join-Path $root 'out/Ds01'
            if (-not (Test-Path (Join-Path $module 'Ds01.psd1'))) { throw "No module at $module; run ./build.ps1 Build first." }
            $zip = Join-Path $root 'out/Ds01.zip'
            Compress-Archive -Path $module -DestinationPath $zip -Force
            Write-Host "Packaged $zip"
        }
    }
}
