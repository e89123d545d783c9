using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;
using Ds01.Core.Gpu;

namespace Ds01.PowerShell;

/// <summary>The GPU side of container commands; inventory is read only when a command needs GPUs.</summary>
internal static class GpuPlacementFactory
{
    public static IGpuPlacement Create(Ds01Session session, IContainerEngine engine) => new GpuService(session, engine);
}
