using Microsoft.ML.CompactTransformer.Native;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Turns a <see cref="TrainingDevice"/> choice into a libtorch device.</summary>
internal static class TrainingDevices
{
    /// <summary>
    /// CPU, or the first CUDA device when asked for (Cuda) or available (Auto). Cuda without a CUDA-enabled libtorch
    /// or without a GPU throws <see cref="InvalidOperationException"/> saying what to install.
    /// </summary>
    public static Device Resolve(TrainingDevice choice)
    {
        TorchRuntime.EnsureInitialized();
        return choice switch
        {
            TrainingDevice.Cpu => CPU,
            TrainingDevice.Auto => cuda.is_available() ? CUDA : CPU,
            TrainingDevice.Cuda => cuda.is_available()
                ? CUDA
                : throw new InvalidOperationException(
                    "Training on CUDA was asked for, but TorchSharp sees no CUDA device. Reference a CUDA build of libtorch " +
                    "instead of libtorch-cpu-linux-x64: the package TorchSharp-cuda-linux (or TorchSharp-cuda-windows), or " +
                    "TorchSharp with libtorch-cuda-12.x-linux-x64; and check that an NVIDIA driver and GPU are present " +
                    "(nvidia-smi). Device = Auto falls back to the CPU instead."),
            _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, null),
        };
    }
}
