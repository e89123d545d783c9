namespace Ds01.PowerShell; internal static class Placeholder {}
