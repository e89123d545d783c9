#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# What a pwsh user types day to day, for the cmdlets the other specs do not drive: stats, exec, enter, frameworks,
# images, and how output looks (Format-Table, Export-Csv, ConvertTo-Json, error records, ds01's table).
# Needs DOCKER_HOST and ds01-test/busybox (scripts/test-dockerd.sh); scripts/pester.sh runs it.

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    Import-Module (Join-Path $repo 'out/Ds01/Ds01.psd1') -Force
    $PSStyle.OutputRendering = 'PlainText'
    $script:ds01 = Join-Path $repo 'src/Ds01.Cli/bin/Release/net10.0/ds01.dll'
    $script:root = Join-Path ([IO.Path]::GetTempPath()) ("ds01-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path (Join-Path $script:root 'etc') -Force | Out-Null
    Copy-Item (Join-Path $repo 'config/ml_images.repo') (Join-Path $script:root 'etc')
    @"
defaults: { cpu_limit: 1, memory_limit: 256M, max_containers: 3 }
workspace_root: "$script:root/ws/{project}"
dockerfiles_root: "$script:root/dockerfiles"
allowed_mount_roots: ["$script:root"]
ulimits: { memlock: 8388608 }
"@ | Set-Content -Path (Join-Path $script:root 'etc/resource-limits.yaml')
    @'
attach: simulated
architecture: CUDA_ADA
gpus:
  - { index: 0, uuid: GPU-5c000000-0000-4000-8000-000000000000, model: NVIDIA L40S, memory_mib: 46068 }
'@ | Set-Content -Path (Join-Path $script:root 'etc/gpu-config.yaml')
    $env:DS01_CONFIG_DIR = Join-Path $script:root 'etc'
    $env:DS01_LOG_DIR = Join-Path $script:root 'log'
    $env:DS01_STATE_DIR = Join-Path $script:root 'state'
    $script:name = 'pscn-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
    New-Ds01Container $script:name -Image ds01-test/busybox:latest -GpuCount 0 | Out-Null
}

AfterAll {
    Get-Ds01Container -Name "$script:name*" | Remove-Ds01Container -Stop -Force
    Remove-Item -Recurse -Force $script:root
}

Describe 'running programs in a container' {
    BeforeAll { Start-Ds01Container $script:name }

    It 'Invoke-Ds01ContainerCommand returns stdout as strings and sets $LASTEXITCODE' {
        $lines = Invoke-Ds01ContainerCommand $script:name sh, -c, 'echo one; echo two; exit 3'
        $lines | Should -Be @('one', 'two')
        $LASTEXITCODE | Should -Be 3
    }

    It 'passes arguments as they are: no shell on the host sees them' {
        Invoke-Ds01ContainerCommand $script:name echo, 'a;b $(id)' | Should -Be 'a;b $(id)'
        $LASTEXITCODE | Should -Be 0
    }

    It 'Get-Ds01ContainerStats samples the running container' {
        $s = Get-Ds01ContainerStats $script:name
        $s.Name | Should -Be $script:name
        $s.State | Should -Be 'Running'
        $s.MemoryLimitBytes | Should -Be 268435456
        $s.Pids | Should -BeGreaterThan 0
    }

    It 'Enter-Ds01Container without a terminal is an error record, not a hang' {
        $err = $null
        Enter-Ds01Container $script:name -ErrorAction SilentlyContinue -ErrorVariable err
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'TerminalRequired,Ds01.PowerShell.Cmdlets.EnterDs01ContainerCommand'
        $err[0].TargetObject | Should -Be $script:name
    }

    It 'Stop-Ds01Container -WhatIf leaves it running' {
        Stop-Ds01Container $script:name -WhatIf
        (Get-Ds01Container $script:name).State | Should -Be 'Running'
    }
}

Describe 'frameworks and images' {
    It 'Get-Ds01Framework filters the AIME catalog for the server architecture' {
        $f = Get-Ds01Framework Pytorch
        $f | Should -Not -BeNullOrEmpty
        $f | ForEach-Object { $_.Architectures -split ';' | Should -Contain 'CUDA_ADA' }
        ($f | Sort-Object Version -Descending | Select-Object -First 1).Image | Should -Match '^aimehub/'
    }

    It 'Get-Ds01Image lists the legacy commit of a container made from a plain image' {
        $images = Get-Ds01Image -All
        $images.Name | Should -Contain "ds01-test/busybox:$($script:name)._.$(id -u)"
    }

    It 'Update-Ds01Image -WhatIf on a project without a Dockerfile is a specific error' {
        { Update-Ds01Image 'no-such-project-ds01' -AddPackage wandb -ErrorAction Stop } |
            Should -Throw -ExceptionType ([Exception])
        $Error[0].FullyQualifiedErrorId | Should -Match 'Ds01.PowerShell.Cmdlets.UpdateDs01ImageCommand$'
    }
}

Describe 'output a pwsh user reads and exports' {
    It 'Format-Table shows the view columns and fits 80 columns' {
        $lines = Get-Ds01Container $script:name | Format-Table | Out-String -Width 80 -Stream | Where-Object { $_ }
        $lines[0] | Should -Match '^Name\s+User\s+State\s+Image\s+Gpu'
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $lines[2] | Should -Match "^$([regex]::Escape($script:name))\s"
    }

    It 'Export-Csv writes one row per container with plain cells' {
        $csv = Join-Path $script:root 'containers.csv'
        Get-Ds01Container -Name "$script:name*" | Export-Csv -Path $csv
        $rows = Import-Csv $csv
        $rows | Should -HaveCount 1
        $rows[0].Name | Should -Be $script:name
        $rows[0].State | Should -Be 'Running'
        Get-Content $csv -Raw | Should -Not -Match 'System\.|Ds01\.Core'
    }

    It 'ConvertTo-Json writes enum names and ISO 8601 dates' {
        $json = Get-Ds01Container $script:name | ConvertTo-Json | ConvertFrom-Json -DateKind String
        $json.State | Should -Be 'Running'
        $json.CreatedAt | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d'
    }

    It 'an error record carries id, category, target and recommended action' {
        $err = $null
        Get-Ds01Container 'no-such-container-ds01' -ErrorAction SilentlyContinue -ErrorVariable err
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'ContainerNotFound,Ds01.PowerShell.Cmdlets.GetDs01ContainerCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 'no-such-container-ds01'
        $err[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'ds01 prints the same table as pwsh for Get-Ds01Container' {
        # A container that never ran: no uptime ticking between the two commands.
        New-Ds01Container "$script:name-t" -Image ds01-test/busybox:latest -GpuCount 0 | Out-Null
        $expected = Get-Ds01Container "$script:name-t" | Out-String -Width 4096 -Stream | ForEach-Object TrimEnd | Where-Object { $_ }
        $actual = & dotnet $script:ds01 -c "Get-Ds01Container $script:name-t" | ForEach-Object TrimEnd | Where-Object { $_ }
        $expected | Should -HaveCount 3
        $LASTEXITCODE | Should -Be 0
        $actual | Should -Be $expected
    }

    It 'ds01 --json writes the same names as ConvertTo-Json' {
        $fromDs01 = (& dotnet $script:ds01 --json -c "Get-Ds01Container $script:name") -join "`n" | ConvertFrom-Json
        $fromDs01[0].Name | Should -Be $script:name
        $fromDs01[0].State | Should -Be 'Running'
    }
}

Describe 'on a server with NVIDIA GPUs' -Tag RealGpu {
    # Excluded by tag where there are no GPUs (scripts/pester.ps1 counts it as skipped).
    It 'Get-Ds01Gpu lists every GPU nvidia-smi reports' {
        $cfg = Join-Path $script:root 'real-gpu'
        New-Item -ItemType Directory -Path $cfg -Force | Out-Null
        $env:DS01_CONFIG_DIR = $cfg
        try {
            $smi = @(& nvidia-smi -L | Where-Object { $_ -match '^GPU \d+:' })
            $slots = @(Get-Ds01Gpu | Where-Object { -not $_.IsMig })
            $migGpus = @(Get-Ds01Gpu | Where-Object IsMig | Select-Object -ExpandProperty Index -Unique)
            ($slots.Count + $migGpus.Count) | Should -Be $smi.Count
        }
        finally {
            $env:DS01_CONFIG_DIR = Join-Path $script:root 'etc'
        }
    }
}
