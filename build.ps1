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
            $specs = Join-Path $root 'tests/Pester'
            if (-not (Get-Module -ListAvailable -Name Pester)) {
                Write-Warning 'Pester is not installed here; skipping tests/Pester (Install-Module Pester -MinimumVersion 5.0).'
            }
            elseif (-not (Test-Path $specs)) {
                Write-Warning "No Pester specs at $specs."
            }
            else {
                Import-Module Pester -MinimumVersion 5.0
                $result = Invoke-Pester -Path $specs -CI -PassThru
                if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed" }
            }
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
