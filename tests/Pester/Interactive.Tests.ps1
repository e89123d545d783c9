#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pickers and guided mode in real pwsh: with nobody at a terminal a left-out name is an error at once, never a prompt.
# Each case runs a child pwsh with stdin redirected; it must exit within the timeout (a hang fails the test).

BeforeAll {
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:manifest = Join-Path $repo 'out/Ds01/Ds01.psd1'
    # This pwsh itself (a dotnet global tool runs as "dotnet", so not the process path).
    $script:pwsh = Join-Path $PSHOME 'pwsh'

    function Invoke-Child([string[]] $PwshArgs, [string] $Command) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($script:pwsh)
        foreach ($a in $PwshArgs) { $psi.ArgumentList.Add($a) }
        $psi.ArgumentList.Add('-Command')
        $psi.ArgumentList.Add("Import-Module '$script:manifest'; $Command")
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.Close()
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw "pwsh waited for input: $Command" }
        [pscustomobject]@{ Code = $p.ExitCode; Text = $out.Result + $err.Result }
    }
}

Describe 'no terminal, no prompt' {
    It 'Start-Ds01Container without a name in pwsh -NonInteractive is NameRequired' {
        $r = Invoke-Child @('-NoProfile', '-NonInteractive') 'try { Start-Ds01Container -ErrorAction Stop } catch { $_.FullyQualifiedErrorId; exit 3 }'
        $r.Code | Should -Be 3
        $r.Text | Should -Match 'NameRequired'
    }

    It 'New-Ds01Container -Guided with stdin redirected is GuidedNeedsTerminal' {
        $r = Invoke-Child @('-NoProfile') 'try { New-Ds01Container -Guided -ErrorAction Stop } catch { $_.FullyQualifiedErrorId; exit 3 }'
        $r.Code | Should -Be 3
        $r.Text | Should -Match 'GuidedNeedsTerminal'
    }

    It 'Build-Ds01Image without a project in pwsh -noni is ProjectRequired' {
        $r = Invoke-Child @('-NoProfile', '-noni') 'try { Build-Ds01Image -Framework pytorch -ErrorAction Stop } catch { $_.FullyQualifiedErrorId; exit 3 }'
        $r.Code | Should -Be 3
        $r.Text | Should -Match 'ProjectRequired'
    }
}
