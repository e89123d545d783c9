using Ds01.Core;
using Ds01.Core.Containers;
using Ds01.Core.Docker;

namespace Ds01.PowerShell;

/// <summary>Builds the GPU side of container commands (filled in by the GPU allocation work).</summary>
internal static class GpuPlacementFactory
{
    public static IGpuPlacement? Create(Ds01Session session, IContainerEngine engine) => null;
}
