using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.CompactTransformer.Native;

/// <summary>
/// Prepares libtorch for this library: the OpenMP wait policy before the native library loads, a clear
/// error when it cannot load, and the CPU convolution backend.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool initialized;

    /// <summary>
    /// Runs when this assembly loads, before any TorchSharp call of ours. A busy-waiting OpenMP pool made
    /// 2-thread training 7x slower while another process held a core; PASSIVE avoids that. The variable
    /// must reach the native environment (<see cref="Environment.SetEnvironmentVariable(string, string)"/>
    /// does not), and a value the user set is respected.
    /// </summary>
#pragma warning disable CA2255 // deliberate: the variable has to be in place before libtorch's first load
    [ModuleInitializer]
    internal static void SetNativeEnvironment()
    {
        if (!OperatingSystem.IsWindows() && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            try
            {
                setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No libc setenv (unusual platform): libtorch keeps its default policy.
            }
        }
    }
#pragma warning restore CA2255

    /// <summary>
    /// Loads libtorch (once) and applies our defaults; throws <see cref="InvalidOperationException"/> that
    /// names the likely cause when the native library cannot load.
    /// </summary>
    public static void EnsureInitialized()
    {
        if (initialized)
            return;
        lock (Gate)
        {
            if (initialized)
                return;
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
            {
                throw new InvalidOperationException(
                    "TorchSharp's native library (libLibTorchSharp.so) could not be loaded. On Debian 12 / Ubuntu 22.04 the " +
                    "usual cause is that it asks for GLIBCXX_3.4.32, newer than the system libstdc++: build through this " +
                    "repository (its build/TorchSharpNativeFix.targets patches the output copy) or install libstdc++ from GCC 13+. " +
                    "Run `ldd -r` on the libLibTorchSharp.so next to your program to see the missing versions.", e);
            }
            initialized = true;
        }
    }

    /// <summary>
    /// Whether a training step on the CPU runs its batch as two halves at once, on two threads with half of the intra-op
    /// threads each (default true; it applies with two or more intra-op threads, and not with mixup/cutmix or autocast). Both
    /// backward passes add into the same gradients, which are those of the whole batch. It kept both cores of our 2-core
    /// machines busy where one batch on two intra-op threads left ~15% of them idle (docs/PERFORMANCE.md). Results stay
    /// bitwise reproducible for a seed and thread count; they differ in the last bits from the same run with this off.
    /// </summary>
    public static bool HalfBatchesOnCpu { get; set; } = true;

    /// <summary>
    /// Whether training on the CPU keeps freed native memory for the next step (default true). libtorch allocates each
    /// step's activations with malloc; by default glibc maps the large ones afresh on every allocation and unmaps them on
    /// free, so each step pays for page faults on zeroed pages (7-9% of a cct_7_3x1_32 step on our machines). While a Fit
    /// runs on the CPU, malloc is told to serve every block from its heap and to keep what is freed (mallopt
    /// M_MMAP_MAX = 0, M_TRIM_THRESHOLD = max, M_TOP_PAD = 256 MB); the free pages go back to the system after every
    /// epoch and when training ends, where the defaults are restored. This is process-wide while it lasts. It does nothing
    /// outside glibc, or when malloc was configured through the environment (<c>MALLOC_*</c> variables or
    /// <c>GLIBC_TUNABLES</c>).
    /// </summary>
    public static bool ReuseFreedMemory { get; set; } = true;

    /// <summary>
    /// Whether CPU convolutions go through oneDNN (libtorch's default, and ours). Turning it off selects
    /// libtorch's reference convolution kernels: they matched the original's fixture outputs about twice as
    /// closely (tokenizer outputs within 6e-6 instead of 1.1e-5; logits agree to 3e-7 either way), but a
    /// training step of cct_2_3x2_32 was 2-3x slower with them on our 2-core machines. The parity tests turn
    /// it off; training leaves it on. Setting it has no effect where the libtorch build lacks the switch.
    /// </summary>
    public static bool OneDnnConvolutions
    {
        get
        {
            try
            {
                return UserEnabledMkldnn(GlobalContext());
            }
            catch (EntryPointNotFoundException)
            {
                return true;
            }
        }
        set
        {
            try
            {
                SetUserEnabledMkldnn(GlobalContext(), value);
            }
            catch (EntryPointNotFoundException)
            {
                // A libtorch without the C++ switch (another build): keep its default.
            }
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv(string name, string value, int overwrite);

    // at::globalContext() and at::Context::{set,}userEnabledMkldnn: C++ symbols of libtorch_cpu (Itanium ABI,
    // `this` first). TorchSharp 0.107 has no managed switch for them.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.I1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);
}
