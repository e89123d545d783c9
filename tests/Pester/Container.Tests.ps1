#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-facing container scenarios (needs DOCKER_HOST and the ds01-test/busybox image from scripts/test-dockerd.sh).

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    Import-Module (Join-Path $repo 'out/Ds01/Ds01.psd1') -Force
    $script:root = Join-Path ([IO.Path]::GetTempPath()) ("ds01-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path (Join-Path $script:root 'etc') -Force | Out-Null
    @"
defaults: { cpu_limit: 1, memory_limit: 256M }
workspace_root: "$script:root/ws/{project}"
allowed_mount_roots: ["$script:root"]
ulimits: { memlock: 8388608 }
"@ | Set-Content -Path (Join-Path $script:root 'etc/resource-limits.yaml')
    $env:DS01_CONFIG_DIR = Join-Path $script:root 'etc'
    $env:DS01_LOG_DIR = Join-Path $script:root 'log'
    $env:DS01_STATE_DIR = Join-Path $script:root 'state'
    $script:name = 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
}

AfterAll {
    Get-Ds01Container -Name "$script:name*" | Remove-Ds01Container -Stop -Force
    Remove-Item -Recurse -Force $script:root
}

Describe 'container lifecycle' {
    It 'creates, starts, pauses, resumes, stops and removes through the pipeline' {
        $c = New-Ds01Container $script:name -Image ds01-test/busybox:latest -GpuCount 0 -PassThru
        $c.State | Should -Be 'Created'
        (Start-Ds01Container $script:name -PassThru).State | Should -Be 'Running'
        (Get-Ds01Container $script:name | Suspend-Ds01Container -PassThru).State | Should -Be 'Paused'
        (Get-Ds01Container $script:name | Resume-Ds01Container -PassThru).State | Should -Be 'Running'
        (Get-Ds01Container $script:name | Stop-Ds01Container -PassThru).State | Should -Be 'Stopped'
        Get-Ds01Container -State Stopped -Name $script:name | Remove-Ds01Container -Force
        Get-Ds01Container -Name $script:name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses to remove a running container without -Stop' {
        New-Ds01Container "$script:name-r" -Image ds01-test/busybox:latest -GpuCount 0
        Start-Ds01Container "$script:name-r"
        { Remove-Ds01Container "$script:name-r" -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ContainerRunning,Ds01.PowerShell.Cmdlets.RemoveDs01ContainerCommand'
    }

    It 'changes nothing with -WhatIf' {
        New-Ds01Container "$script:name-w" -Image ds01-test/busybox:latest -GpuCount 0 -WhatIf
        Get-Ds01Container -Name "$script:name-w" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}
