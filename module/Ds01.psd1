@{
    RootModule           = 'Ds01.PowerShell.dll'
    # The build writes <Version> from Directory.Build.props here in out/Ds01/Ds01.psd1: that is the version that ships.
    ModuleVersion        = '0.1.0'
    GUID                 = '3f6b8f0e-5d0c-4c57-9b7e-2a1d0c9e4d01'
    Author               = 'Ds01 developers'
    CompanyName          = 'Ds01'
    Copyright            = '(c) Ds01 developers. MIT License.'
    Description          = 'Share GPU servers fairly and safely on Docker: quota- and MIG-aware containers, images and allocation for ML labs (a re-implementation of DS01 over AIME ML Containers).'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Ds01.format.ps1xml')
    CmdletsToExport      = @(
        'Build-Ds01Image'
        'Clear-Ds01Container'
        'Deploy-Ds01Container'
        'Enter-Ds01Container'
        'Exit-Ds01Container'
        'Export-Ds01Metric'
        'Get-Ds01Container'
        'Get-Ds01ContainerStats'
        'Get-Ds01Framework'
        'Get-Ds01Gpu'
        'Get-Ds01GpuAllocation'
        'Get-Ds01Event'
        'Get-Ds01Image'
        'Get-Ds01ResourceLimit'
        'Get-Ds01SystemStatus'
        'Sync-Ds01SlurmAccount'
        'Get-Ds01UsageReport'
        'Initialize-Ds01Project'
        'Initialize-Ds01User'
        'Import-Ds01Image'
        'Invoke-Ds01ContainerCommand'
        'Invoke-Ds01Maintenance'
        'New-Ds01Container'
        'New-Ds01Dockerfile'
        'Remove-Ds01Container'
        'Remove-Ds01Image'
        'Resume-Ds01Container'
        'Show-Ds01Dashboard'
        'Start-Ds01Container'
        'Start-Ds01Project'
        'Stop-Ds01Container'
        'Suspend-Ds01Container'
        'Test-Ds01Config'
        'Update-Ds01Image'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('GPU', 'Docker', 'MIG', 'ML', 'Lab', 'Linux')
            ProjectUri = 'https://github.com/ds01/ds01'
        }
    }
}
