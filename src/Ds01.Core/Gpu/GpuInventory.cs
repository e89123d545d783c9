using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ds01.Core.Gpu;

/// <summary>
/// The machine's GPU slots: gpu-config.yaml's static list when it has one, else what nvidia-smi reports.
/// Never an empty list by accident: a missing or failing nvidia-smi is an error.
/// </summary>
public sealed class GpuInventory
{
    public const string NvidiaSmiVariable = "DS01_NVIDIA_SMI";

    /// <summary>The fields asked of `--query-gpu`, in order (the output has no header).</summary>
    public static readonly IReadOnlyList<string> QueryFields =
        new[] { "index", "uuid", "name", "memory.total", "utilization.gpu", "mig.mode.current" };

    /// <param name="nvidiaSmiPath">nvidia-smi to run; null means $DS01_NVIDIA_SMI, else `nvidia-smi` on PATH.</param>
    /// <param name="timeout">How long one nvidia-smi run may take; a hung driver must not hang a create forever.</param>
    public GpuInventory(string? nvidiaSmiPath = null, TimeSpan? timeout = null)
    {
        // A non-root caller's override runs with their rights only, but it decides what everyone's slots look like
        // to this command; it is honoured only where root owns the program (Ds01Paths.TrustedOverride).
        var env = Ds01Paths.TrustedOverride(NvidiaSmiVariable, Environment.GetEnvironmentVariable(NvidiaSmiVariable), directory: false);
        NvidiaSmiPath = !string.IsNullOrWhiteSpace(nvidiaSmiPath) ? nvidiaSmiPath!
            : !string.IsNullOrWhiteSpace(env) ? env! : "nvidia-smi";
        Timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    public string NvidiaSmiPath { get; }
    public TimeSpan Timeout { get; }

    public IReadOnlyList<Ds01GpuSlot> Load(GpuConfig? config)
    {
        if (config?.Gpus is { } gpus) return FromStatic(gpus);
        var listed = Run("-L");
        // nvidia-smi always prints something: a GPU per line, or "No devices were found". Nothing at all is a broken
        // driver or wrapper, and reading it as "no GPUs" would hide that behind NoFreeGpu.
        if (string.IsNullOrWhiteSpace(listed))
            throw new Ds01Exception(Ds01ErrorKind.InvalidData, "NvidiaSmiOutputEmpty",
                $"'{NvidiaSmiPath} -L' exited 0 but printed nothing; it lists each GPU, or says 'No devices were found'.", NvidiaSmiPath,
                $"Check that nvidia-smi works (driver loaded, no version mismatch), or list the GPUs under 'gpus:' in {GpuConfig.FileName}.");
        var list = NvidiaSmiParser.ParseList(listed);
        var query = NvidiaSmiParser.ParseQuery(
            Run("--query-gpu=" + string.Join(",", QueryFields), "--format=csv,noheader,nounits"), QueryFields);
        return NvidiaSmiParser.BuildSlots(list, query);
    }

    /// <summary>Slots from gpu-config.yaml's list: a GPU with mig_instances gives those, otherwise itself.</summary>
    public static IReadOnlyList<Ds01GpuSlot> FromStatic(IReadOnlyList<GpuConfigGpu> gpus)
    {
        var slots = new List<Ds01GpuSlot>();
        foreach (var gpu in gpus.OrderBy(g => g.Index))
        {
            if (!gpu.IsMig)
            {
                slots.Add(new Ds01GpuSlot
                {
                    Slot = Ds01GpuSlot.FullSlotId(gpu.Index), Index = gpu.Index, Uuid = gpu.Uuid, GpuUuid = gpu.Uuid,
                    Model = gpu.Model, Weight = 1.0, MemoryTotalMiB = gpu.MemoryMiB,
                });
                continue;
            }
            foreach (var mig in gpu.MigInstances.OrderBy(m => m.Device))
                slots.Add(NvidiaSmiParser.MigSlot(gpu.Index, gpu.Uuid, gpu.Model, mig.Device, mig.Profile, mig.Uuid));
        }
        return slots;
    }

    // setsid(1) makes nvidia-smi the leader of its own process group (it execs in place, keeping the pid), so a
    // timeout can kill everything it started, including a child that daemonized and still holds our pipes.
    private static readonly string? SetsidPath = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private string Run(params string[] args)
    {
        var ownGroup = SetsidPath is not null && !OperatingSystem.IsWindows();
        var psi = new ProcessStartInfo(ownGroup ? SetsidPath! : NvidiaSmiPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (ownGroup) psi.ArgumentList.Add(NvidiaSmiPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var shown = $"{NvidiaSmiPath} {string.Join(' ', args)}";

        if (ownGroup && !NvidiaSmiPath.Contains('/') && !OnPath(NvidiaSmiPath))
            throw NotFound(new Win32Exception(2, "No such file or directory"));
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new Win32Exception("the process did not start");
        }
        catch (Win32Exception e)
        {
            throw NotFound(e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var clock = Stopwatch.StartNew();
            // Read both streams concurrently so a chatty stderr cannot fill its pipe and stall the process.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // The streams end when every holder of the pipe has exited, not when nvidia-smi has: wait for both.
            var exited = process.WaitForExit((int)Timeout.TotalMilliseconds);
            var left = Timeout - clock.Elapsed;
            var drained = exited && Task.WaitAll(new Task[] { stdout, stderr }, left > TimeSpan.Zero ? left : TimeSpan.Zero);
            if (!exited || !drained)
            {
                KillGroup(process, ownGroup);
                throw new Ds01Exception(Ds01ErrorKind.OperationTimeout, "GpuInventoryUnavailable",
                    exited
                        ? $"'{shown}' exited, but a process it started kept its output open for more than {Timeout.TotalSeconds:0} s; that process group was killed."
                        : $"'{shown}' did not finish within {Timeout.TotalSeconds:0} s; it was killed.", NvidiaSmiPath,
                    "Check the GPU driver (nvidia-smi hangs when a GPU has fallen off the bus); an admin may list the GPUs in gpu-config.yaml meanwhile.");
            }
            var output = stdout.GetAwaiter().GetResult();
            var error = stderr.GetAwaiter().GetResult().Trim();
            if (process.ExitCode != 0)
            {
                if (ownGroup && process.ExitCode is 126 or 127 && error.StartsWith("setsid:", StringComparison.Ordinal))
                    throw NotFound(new Win32Exception(2, error));
                var detail = error.Length > 0 ? error : output.Trim();
                throw new Ds01Exception(Ds01ErrorKind.ResourceUnavailable, "GpuInventoryUnavailable",
                    $"'{shown}' failed with exit code {process.ExitCode}{(detail.Length > 0 ? ": " + detail : "")}.", NvidiaSmiPath,
                    $"Fix the NVIDIA driver (see the message), or list the GPUs under 'gpus:' in {GpuConfig.FileName}.");
            }
            return output;
        }
    }

    private Ds01Exception NotFound(Win32Exception e) =>
        new(Ds01ErrorKind.NotInstalled, "GpuInventoryUnavailable",
            $"Cannot run '{NvidiaSmiPath}' to list the GPUs: {e.Message}.", NvidiaSmiPath,
            $"Install the NVIDIA driver (it provides nvidia-smi), set ${NvidiaSmiVariable} to its path, or list the GPUs under 'gpus:' in {GpuConfig.FileName}.",
            e);

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, program)));

    private static void KillGroup(Process process, bool ownGroup)
    {
        // SIGKILL to the whole group: the pid is the group id because setsid made it the leader.
        if (ownGroup) kill(-process.Id, 9);
        try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
        catch (Win32Exception) { }
    }
}
