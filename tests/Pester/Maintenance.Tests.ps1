#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Maintenance and the audit trail as an admin sees them (needs DOCKER_HOST and ds01-test/busybox from
# scripts/test-dockerd.sh, and root). CI runs the same behaviour through xunit (tests/Integration/MaintenanceTests.cs).

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    Import-Module (Join-Path $repo 'out/Ds01/Ds01.psd1') -Force
    $script:root = Join-Path ([IO.Path]::GetTempPath()) ("ds01-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path (Join-Path $script:root 'etc') -Force | Out-Null
    @"
defaults: { cpu_limit: 1, memory_limit: 256M, gpu_limit: 1 }
workspace_root: "$script:root/ws/{project}"
allowed_mount_roots: ["$script:root"]
ulimits: { memlock: 8388608 }
maintenance: { never_started_hours: 0 }
"@ | Set-Content -Path (Join-Path $script:root 'etc/resource-limits.yaml')
    $env:DS01_CONFIG_DIR = Join-Path $script:root 'etc'
    $env:DS01_LOG_DIR = Join-Path $script:root 'log'
    $env:DS01_STATE_DIR = Join-Path $script:root 'state'
    $script:name = 'pmaint-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
    # Created and never started: with never_started_hours 0 it is an orphan at once.
    New-Ds01Container $script:name -Image ds01-test/busybox:latest -GpuCount 0
    New-Ds01Container "$script:name-kept" -Image ds01-test/busybox:latest -GpuCount 0
    Start-Ds01Container "$script:name-kept"
}

AfterAll {
    Get-Ds01Container -Name "$script:name*" | Remove-Ds01Container -Stop -Force
    Remove-Item -Recurse -Force $script:root
}

Describe 'Invoke-Ds01Maintenance' {
    It '-WhatIf shows the plan and changes nothing' {
        $plan = Invoke-Ds01Maintenance -Task Orphans -WhatIf | Where-Object Container -like "$script:name*"
        $plan.Action | Should -Be 'Remove'
        $plan.Done | Should -BeFalse
        Get-Ds01Container $script:name | Should -Not -BeNullOrEmpty
    }

    It 'carries out the same plan and reports each action' {
        $done = Invoke-Ds01Maintenance -Task Orphans | Where-Object Container -like "$script:name*"
        $done.Action | Should -Be 'Remove'
        $done.Container | Should -BeLike "$script:name._.*"
        $done.Done | Should -BeTrue
        Get-Ds01Container $script:name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-Ds01Container "$script:name-kept" | Should -Not -BeNullOrEmpty
    }
}

Describe 'Get-Ds01Event' {
    It 'shows what maintenance did, with its outcome' {
        $e = Get-Ds01Event cleanup.* -Container $script:name
        $e.Type | Should -Be 'cleanup.orphan'
        $e.Outcome | Should -Be 'removed'
        $e.Actor | Should -Be 'maintenance'
    }

    It 'exports the week to CSV' {
        $csv = Join-Path $script:root 'week.csv'
        Get-Ds01Event -Since (Get-Date).AddDays(-7) | Export-Csv $csv
        (Import-Csv $csv | Where-Object Container -like "$script:name*").Type | Should -Contain 'container.create'
    }

    It 'counts the containers created in the usage report' {
        (Get-Ds01UsageReport | Where-Object Name -eq ([Environment]::UserName)).ContainersCreated | Should -BeGreaterOrEqual 2
    }
}
