using TorchSharp;

namespace CausalEval.Baseline;

/// <summary>Starts TorchSharp's native CPU backend (libtorch through libLibTorchSharp).</summary>
internal static class TorchRuntime
{
    /// <summary>
    /// Loads the native libraries and selects the CPU device. Safe to call more than once.
    /// Throws <see cref="NotSupportedException"/> (TorchSharp's own, with its load trace) if the
    /// native libraries cannot be loaded.
    /// </summary>
    internal static void EnsureCpu() => torch.InitializeDeviceType(DeviceType.CPU);
}
