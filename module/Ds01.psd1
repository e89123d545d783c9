# Minimal manifest so the ds01 CLI can import the module; the module owner's manifest replaces it.
@{
    RootModule        = 'Ds01.PowerShell.dll'
    ModuleVersion     = '0.1.0'
    GUID              = '62291b47-cefc-4446-b270-775ee0fc6ed9'
    CmdletsToExport   = @()
    FunctionsToExport = @()
    AliasesToExport   = @()
    VariablesToExport = @()
    FormatsToProcess  = @('Ds01.format.ps1xml')
}
