using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Reads a one-element running sum off its device: the one place where training waits for the device.</summary>
internal static class DeviceScalars
{
    /// <summary>The value as a double.</summary>
    public static double Read(Tensor value) => value.to_type(ScalarType.Float64).item<double>();
}
