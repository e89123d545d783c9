#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Image scenarios against a local dockerd (needs DOCKER_HOST and ds01-test/busybox from scripts/test-dockerd.sh).
# CI runs the same behaviour through xunit (tests/Integration/ImageTests.cs) and parses this file.

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    Import-Module (Join-Path $repo 'out/Ds01/Ds01.psd1') -Force
    $script:root = Join-Path ([IO.Path]::GetTempPath()) ("ds01-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path (Join-Path $script:root 'etc') -Force | Out-Null
    @"
defaults: { cpu_limit: 1, memory_limit: 256M }
workspace_root: "$script:root/ws/{project}"
dockerfiles_root: "$script:root/dockerfiles"
allowed_mount_roots: ["$script:root"]
ulimits: { memlock: 8388608 }
"@ | Set-Content -Path (Join-Path $script:root 'etc/resource-limits.yaml')
    $env:DS01_CONFIG_DIR = Join-Path $script:root 'etc'
    $env:DS01_LOG_DIR = Join-Path $script:root 'log'
    $script:project = 'pimg-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
}

AfterAll {
    Get-Ds01Container -Name "$script:project*" | Remove-Ds01Container -Stop -Force
    Get-Ds01Image -Project $script:project | Remove-Ds01Image -Force
    Remove-Item -Recurse -Force $script:root
}

Describe 'project images' {
    It 'generates a Dockerfile with the user baked in' {
        $text = New-Ds01Dockerfile -Project $script:project -BaseImage ds01-test/busybox:latest
        $text | Should -Match 'aime.mlc.DS01_HAS_USER_SETUP="true"'
    }

    It 'builds it and creates a container on the fast path' {
        $image = Build-Ds01Image -Project $script:project -BaseImage ds01-test/busybox:latest
        $image.HasUserSetup | Should -BeTrue
        $c = New-Ds01Container $script:project -GpuCount 0 -PassThru -Verbose 4>&1 | Where-Object { $_ -is [Ds01.Core.Containers.Ds01Container] }
        $c.Image | Should -Be "ds01-$(id -u)/$($script:project):latest"
    }

    It 'refuses to remove an image a container uses' {
        { Get-Ds01Image -Project $script:project | Remove-Ds01Image -Force -ErrorAction Stop } |
            Should -Throw -ErrorId 'ImageInUse,Ds01.PowerShell.Cmdlets.RemoveDs01ImageCommand'
    }
}
