#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# GPU allocation scenarios in simulated attach mode (needs DOCKER_HOST and ds01-test/busybox from scripts/test-dockerd.sh).
# CI runs the same behaviour through xunit (tests/Integration/GpuAllocationTests.cs) and parses this file.

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    Import-Module (Join-Path $repo 'out/Ds01/Ds01.psd1') -Force
    $script:root = Join-Path ([IO.Path]::GetTempPath()) ("ds01-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path (Join-Path $script:root 'etc') -Force | Out-Null
    @"
defaults: { cpu_limit: 1, memory_limit: 256M, gpu_limit: 1, gpu_hold_after_stop_minutes: 0.05 }
workspace_root: "$script:root/ws/{project}"
allowed_mount_roots: ["$script:root"]
ulimits: { memlock: 8388608 }
"@ | Set-Content -Path (Join-Path $script:root 'etc/resource-limits.yaml')
    @'
attach: simulated
gpus:
  - { index: 0, uuid: GPU-00000000-0000-4000-8000-000000000000, model: Simulated H100 }
  - { index: 1, uuid: GPU-00000000-0000-4000-8000-000000000001, model: Simulated H100 }
'@ | Set-Content -Path (Join-Path $script:root 'etc/gpu-config.yaml')
    $env:DS01_CONFIG_DIR = Join-Path $script:root 'etc'
    $env:DS01_LOG_DIR = Join-Path $script:root 'log'
    $env:DS01_STATE_DIR = Join-Path $script:root 'state'
    $script:name = 'pgpu-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
}

AfterAll {
    Get-Ds01Container -Name "$script:name*" | Remove-Ds01Container -Stop -Force
    Remove-Item -Recurse -Force $script:root
}

Describe 'GPU allocation' {
    It 'records the slot and shows it as allocated' {
        $c = New-Ds01Container $script:name -Image ds01-test/busybox:latest -GpuCount 1 -PassThru
        $c.Gpu | Should -Be '0'
        (Get-Ds01Gpu -Slot 0).State | Should -Be 'Allocated'
        (Get-Ds01GpuAllocation | Where-Object Container -eq $script:name).Slots | Should -Be '0'
    }

    It 'rejects a second GPU over the quota with QuotaExceeded' {
        { New-Ds01Container "$script:name-2" -Image ds01-test/busybox:latest -ErrorAction Stop } |
            Should -Throw -ErrorId 'GpuQuotaExceeded,Ds01.PowerShell.Cmdlets.NewDs01ContainerCommand'
    }

    It 'holds the GPU after stop until the hold expires' {
        Start-Ds01Container $script:name
        $stopped = Stop-Ds01Container $script:name -Kill -PassThru
        $stopped.GpuHoldExpiresAt | Should -Not -BeNullOrEmpty
        (Get-Ds01Gpu -Slot 0).State | Should -Be 'Held'
        Start-Sleep -Seconds 5
        (Get-Ds01Gpu -Slot 0).State | Should -Be 'Free'
    }
}
