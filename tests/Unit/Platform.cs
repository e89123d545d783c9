// Ds01 runs on Linux only (Unix file modes, Docker's unix socket); say so once instead of guarding each call.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
