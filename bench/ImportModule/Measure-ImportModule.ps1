<#
.SYNOPSIS
    Import-Module Ds01 in a cold pwsh: each sample is a fresh `pwsh -NoProfile` process that times only the
    Import-Module of out/Ds01/Ds01.psd1 (plus, separately, its first command). Prints min/median/max in ms.
.EXAMPLE
    pwsh bench/ImportModule/Measure-ImportModule.ps1 -Count 15
#>
param(
    [ValidateRange(1, 200)] [int] $Count = 15,
    [string] $Manifest = (Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'out/Ds01/Ds01.psd1')
)
$ErrorActionPreference = 'Stop'
if (-not (Test-Path $Manifest)) { throw "No module at $Manifest; run dotnet build Ds01.sln -c Release first." }
# pwsh as a dotnet tool runs inside the dotnet host, so the process path is not pwsh: take the one on PATH.
$pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source

# The child prints two numbers: Import-Module, then the first cmdlet call (which loads Ds01.Core and YamlDotNet).
$child = @'
$m = $env:DS01_BENCH_MANIFEST
$sw = [Diagnostics.Stopwatch]::StartNew()
Import-Module $m
$import = $sw.Elapsed.TotalMilliseconds
$sw.Restart()
$null = Get-Ds01Framework -ErrorAction SilentlyContinue
"{0:F1} {1:F1}" -f $import, $sw.Elapsed.TotalMilliseconds
'@
$env:DS01_BENCH_MANIFEST = $Manifest
$encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($child))
# Baseline: the same cold Import-Module of an empty manifest module, i.e. what pwsh itself costs.
$empty = Join-Path ([IO.Path]::GetTempPath()) ('ds01-bench-empty-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $empty | Out-Null
$emptyManifest = Join-Path $empty 'Empty.psd1'
New-ModuleManifest -Path $emptyManifest
$baseline = foreach ($i in 1..$Count) {
    $env:DS01_BENCH_MANIFEST = $emptyManifest
    $line = & $pwsh -NoLogo -NoProfile -NonInteractive -Command "`$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module `$env:DS01_BENCH_MANIFEST; '{0:F1}' -f `$sw.Elapsed.TotalMilliseconds"
    [double]"$line".Trim()
}
Remove-Item -Recurse -Force $empty
$env:DS01_BENCH_MANIFEST = $Manifest

$samples = foreach ($i in 1..$Count) {
    $line = & $pwsh -NoLogo -NoProfile -NonInteractive -EncodedCommand $encoded
    if ($LASTEXITCODE -ne 0) { throw "pwsh exited with $LASTEXITCODE" }
    $parts = "$line".Trim() -split ' '
    [pscustomobject]@{ Import = [double]$parts[0]; FirstCommand = [double]$parts[1] }
}

function Stat([double[]] $v) {
    $s = $v | Sort-Object
    '{0,7:F0} {1,7:F0} {2,7:F0}' -f $s[0], $s[[int][math]::Floor(($s.Count - 1) / 2)], $s[-1]
}
"cold pwsh $($PSVersionTable.PSVersion), $Count samples (ms)     min  median     max"
"Import-Module Ds01                       $(Stat $samples.Import)"
"Import-Module of an empty module        $(Stat $baseline)"
"first command (Get-Ds01Framework)       $(Stat $samples.FirstCommand)"
