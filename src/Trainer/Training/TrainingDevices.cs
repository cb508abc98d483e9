using Microsoft.ML.CompactTransformer.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Turns a <see cref="TrainingDevice"/> choice into a libtorch device.</summary>
internal static class TrainingDevices
{
    /// <summary>
    /// CPU, or the first CUDA device when asked for (Cuda) or available (Auto: the CPU fallback). Cuda without CUDA throws
    /// <see cref="InvalidOperationException"/> naming <paramref name="optionName"/> and saying what to do.
    /// </summary>
    /// <param name="choice">The user's choice.</param>
    /// <param name="optionName">How the user spelled the option, for the error (e.g. <c>CompactTransformerOptions.Device</c>, <c>--device</c>).</param>
    public static Device Resolve(TrainingDevice choice, string optionName = "TrainingSettings.Device")
    {
        TorchRuntime.EnsureInitialized();
        var device = Resolve(choice, cuda.is_available(), optionName);
        if (device.type == DeviceType.CUDA)
            InitializeDeviceType(DeviceType.CUDA); // TorchSharp's CUDA backend, before the first tensor goes there
        return device;
    }

    /// <summary>The decision itself, for a given answer to "is CUDA available?".</summary>
    internal static Device Resolve(TrainingDevice choice, bool cudaAvailable, string optionName) => choice switch
    {
        TrainingDevice.Cpu => CPU,
        TrainingDevice.Auto => cudaAvailable ? FirstCuda : CPU,
        TrainingDevice.Cuda => cudaAvailable ? FirstCuda : throw new InvalidOperationException(CudaUnavailableMessage(optionName)),
        _ => throw new ArgumentOutOfRangeException(optionName, choice, $"{optionName} must be Auto, Cpu or Cuda."),
    };

    // torch.CUDA would initialise CUDA on first use, which throws where there is none; the device itself is plain data.
    private static Device FirstCuda => new(DeviceType.CUDA, 0);

    /// <summary>What a Cuda request without CUDA is told.</summary>
    internal static string CudaUnavailableMessage(string optionName) =>
        $"{optionName} asks for Cuda, but CUDA is not available: TorchSharp sees no CUDA device in this process. Either the " +
        "libtorch it loaded is a CPU-only build (libtorch-cpu-linux-x64, this library's default), or no NVIDIA GPU and driver " +
        $"are visible (check nvidia-smi). Set {optionName} to Auto to train on the CPU whenever CUDA is missing, or to Cpu. " +
        "To train on a GPU, reference a CUDA build of libtorch instead (TorchSharp-cuda-linux or TorchSharp-cuda-windows, or " +
        "TorchSharp with libtorch-cuda-12.x-linux-x64), or run against a machine's own CUDA libtorch as docs/GPU.md describes.";

    /// <summary>Short name of a device for logs and results: <c>cpu</c>, <c>cuda:0</c>, <c>meta</c>.</summary>
    public static string Describe(Device device) =>
        device.type switch
        {
            DeviceType.CPU => "cpu",
            DeviceType.CUDA => $"cuda:{Math.Max(0, device.index)}",
            DeviceType.META => "meta",
            var other => other.ToString().ToLowerInvariant(),
        };
}
