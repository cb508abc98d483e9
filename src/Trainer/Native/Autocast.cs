using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Native;

/// <summary>
/// libtorch's automatic mixed precision for one device type, entered and left like Python's <c>torch.autocast</c>.
/// TorchSharp 0.107 does not wrap it, so this calls libtorch's C++ functions (<c>at::autocast::*</c>) directly. The
/// state is per thread: enter and dispose on the thread that runs the forward pass.
/// </summary>
/// <remarks>
/// While enabled, libtorch caches the low-precision copy of every weight it casts; leaving the outermost scope clears
/// that cache, as Python does, so that the next step casts the weights the optimizer has just updated.
/// </remarks>
internal sealed class Autocast : IDisposable
{
    private readonly sbyte deviceType;
    private readonly bool previousEnabled;
    private readonly sbyte previousDtype;
    private bool disposed;

    private Autocast(DeviceType device, ScalarType dtype)
    {
        TorchRuntime.EnsureInitialized();
        deviceType = (sbyte)device;
        previousEnabled = IsEnabled(deviceType);
        previousDtype = GetDtype(deviceType);
        SetEnabled(deviceType, true);
        SetDtype(deviceType, (sbyte)dtype);
        IncrementNesting();
    }

    /// <summary>
    /// Enters autocast to <paramref name="dtype"/> for tensors on <paramref name="device"/>'s type; null (nothing to dispose)
    /// when <paramref name="dtype"/> is null, i.e. full precision.
    /// </summary>
    /// <exception cref="NotSupportedException">The libtorch this process loaded lacks the autocast functions.</exception>
    public static Autocast? Enter(Device device, ScalarType? dtype)
    {
        if (dtype is not { } type)
            return null;
        try
        {
            return new Autocast(device.type, type);
        }
        catch (EntryPointNotFoundException e)
        {
            throw new NotSupportedException(
                "Mixed precision needs libtorch's at::autocast functions, which the libtorch loaded by this process does not export. " +
                "Train with MixedPrecision None instead.", e);
        }
    }

    /// <summary>The autocast dtype <paramref name="precision"/> asks for; null for full precision.</summary>
    public static ScalarType? DtypeOf(Training.MixedPrecision precision) => precision switch
    {
        Training.MixedPrecision.None => null,
        Training.MixedPrecision.BFloat16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "MixedPrecision must be None or BFloat16."),
    };

    /// <summary>Whether autocast is on for <paramref name="device"/>'s type on this thread.</summary>
    public static bool IsEnabled(Device device)
    {
        TorchRuntime.EnsureInitialized();
        return IsEnabled((sbyte)device.type);
    }

    /// <summary>Leaves the scope: restores what was set before and, when this was the outermost scope, clears the cast cache.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        if (DecrementNesting() == 0)
            ClearCache();
        SetEnabled(deviceType, previousEnabled);
        SetDtype(deviceType, previousDtype);
    }

    // at:: functions of libtorch_cpu (Itanium C++ ABI). c10::DeviceType and c10::ScalarType are int8_t enums whose values
    // TorchSharp's DeviceType and ScalarType mirror.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb")]
    private static extern void SetEnabled(sbyte deviceType, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE")]
    [return: MarshalAs(UnmanagedType.I1)]
    private static extern bool IsEnabled(sbyte deviceType);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")]
    private static extern void SetDtype(sbyte deviceType, sbyte dtype);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE")]
    private static extern sbyte GetDtype(sbyte deviceType);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast17increment_nestingEv")]
    private static extern int IncrementNesting();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast17decrement_nestingEv")]
    private static extern int DecrementNesting();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at8autocast11clear_cacheEv")]
    private static extern void ClearCache();
}
