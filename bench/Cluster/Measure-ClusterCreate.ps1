<#
.SYNOPSIS
    Submit-to-running on the Slurm lab against a local create: each sample times New-Ds01Container with
    backend: slurm (sbatch, the job starting, then create + start on its node) and, with the same config minus
    cluster.yaml, a local New-Ds01Container followed by Start-Ds01Container. Prints min/median/max in ms and the
    ratio of the medians. Needs DOCKER_HOST (scripts/test-dockerd.sh) and SLURM_CONF (scripts/slurm-lab.sh).
.EXAMPLE
    pwsh bench/Cluster/Measure-ClusterCreate.ps1 -Count 9
#>
param(
    [ValidateRange(1, 100)] [int] $Count = 9,
    [string] $Manifest = (Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'out/Ds01/Ds01.psd1')
)
$ErrorActionPreference = 'Stop'
if (-not $env:DOCKER_HOST -or -not $env:SLURM_CONF) { throw 'Set DOCKER_HOST (scripts/test-dockerd.sh) and SLURM_CONF (scripts/slurm-lab.sh env).' }
Import-Module $Manifest
$root = Join-Path ([IO.Path]::GetTempPath()) ('ds01-bench-cluster-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$etc = Join-Path $root 'etc'
New-Item -ItemType Directory -Path $etc, (Join-Path $root 'state'), (Join-Path $root 'log'), (Join-Path $root 'ws') | Out-Null
@"
defaults: { cpu_limit: 1, memory_limit: 256M, max_containers: 100, gpu_limit: 8, max_gpus_per_container: 1 }
workspace_root: "$root/ws/{project}"
ulimits: { memlock: 8388608 }
"@ | Set-Content (Join-Path $etc 'resource-limits.yaml')
"attach: simulated`ngpus:`n  - { index: 0, uuid: GPU-00000000-0000-4000-8000-000000000000, model: Simulated H100, memory_mib: 81559 }" |
    Set-Content (Join-Path $etc 'gpu-config.yaml')
$cluster = @"
backend: slurm
slurm:
  partition: lab
  slurm_conf: $($env:SLURM_CONF)
  poll_seconds: 0.1
  nodes:
$((('n1', 'n2', 'n3') | ForEach-Object { "    - { name: $_, docker_host: `"$($env:DOCKER_HOST)`" }" }) -join "`n")
"@
$env:DS01_CONFIG_DIR = $etc; $env:DS01_STATE_DIR = Join-Path $root 'state'; $env:DS01_LOG_DIR = Join-Path $root 'log'
$image = 'ds01-test/busybox:latest'

function Measure-One([scriptblock] $Make, [string] $Name) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & $Make $Name
    $ms = $sw.Elapsed.TotalMilliseconds
    Remove-Ds01Container $Name -Stop -Force
    $ms
}
function Summary([double[]] $xs) { $s = $xs | Sort-Object; [pscustomobject]@{ Min = $s[0]; Median = $s[[int][math]::Floor($s.Count / 2)]; Max = $s[-1] } }

try {
    $local = 1..$Count | ForEach-Object {
        Measure-One { param($n) $null = New-Ds01Container $n -Image $image -Gpu 0 -PassThru; $null = Start-Ds01Container $n } "bench-local-$_"
    }
    $cluster | Set-Content (Join-Path $etc 'cluster.yaml')
    $onCluster = 1..$Count | ForEach-Object {
        Measure-One { param($n) $null = New-Ds01Container $n -Image $image -Gpu h100 -PassThru } "bench-slurm-$_"
    }
    $l = Summary $local; $c = Summary $onCluster
    '{0,-34} min {1,7:F0} ms  median {2,7:F0} ms  max {3,7:F0} ms' -f 'local create + start (1 GPU)', $l.Min, $l.Median, $l.Max
    '{0,-34} min {1,7:F0} ms  median {2,7:F0} ms  max {3,7:F0} ms' -f 'Slurm submit to running (gpu:h100)', $c.Min, $c.Median, $c.Max
    'ratio of medians: {0:F1}x' -f ($c.Median / $l.Median)
}
finally {
    Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue
}
