#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5 spec of the foundation slice. Runs where pwsh and Pester exist (build.ps1 -Task Pester);
# CI, which has neither, runs the same behaviour through xunit and parses this file with the PowerShell parser.

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    Import-Module (Join-Path $repo 'out/Ds01/Ds01.psd1') -Force
    $script:cfg = Join-Path ([IO.Path]::GetTempPath()) ("ds01-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $script:cfg | Out-Null
    @'
defaults: { cpu_limit: 8, memory_limit: 32G, gpu_limit: 1 }
groups:
  msc_students: { priority: 50, gpu_limit: 1, max_runtime_hours: 24 }
default_group: msc_students
'@ | Set-Content -Path (Join-Path $script:cfg 'resource-limits.yaml')
    $env:DS01_CONFIG_DIR = $script:cfg
}

AfterAll {
    Remove-Item -Recurse -Force $script:cfg
    Remove-Item Env:DS01_CONFIG_DIR
}

Describe 'Get-Ds01ResourceLimit' {
    It 'resolves group values over defaults, field by field' {
        $limit = Get-Ds01ResourceLimit
        $limit | Should -BeOfType 'Ds01.Core.Configuration.Ds01ResourceLimit'
        $limit.Group | Should -Be 'msc_students'
        $limit.MaxRuntimeHours | Should -Be 24
        $limit.CpuLimit | Should -Be 8
        $limit.MemoryLimitBytes | Should -Be 34359738368
    }

    It 'is ObjectNotFound for an unknown account' {
        { Get-Ds01ResourceLimit -User 'no-such-user-ds01' -ErrorAction Stop } |
            Should -Throw -ErrorId 'UserNotFound,Ds01.PowerShell.Cmdlets.GetDs01ResourceLimitCommand'
    }
}

Describe 'Test-Ds01Config' {
    It 'names file, line and column of each problem and returns $false' {
        $bad = Join-Path ([IO.Path]::GetTempPath()) ("ds01-bad-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory -Path $bad | Out-Null
        "defaults:`n  cpu_limit: -2`n" | Set-Content -Path (Join-Path $bad 'resource-limits.yaml')
        $result = Test-Ds01Config -Path $bad -ErrorVariable problems -ErrorAction SilentlyContinue
        $result | Should -BeFalse
        $problems | Should -HaveCount 1
        $problems[0].Exception.Message | Should -Match 'resource-limits.yaml:2:14'
        Remove-Item -Recurse -Force $bad
    }

    It 'passes the shipped config' {
        $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
        Test-Ds01Config -Path (Join-Path $repo 'config') | Should -BeTrue
    }
}
