using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Reads a one-element running sum off its device: the one place where training waits for the device.</summary>
internal static class DeviceScalars
{
    /// <summary>The value as a double; no tensor is left behind.</summary>
    public static double Read(Tensor value)
    {
        switch (value.dtype)
        {
            case ScalarType.Float64:
                return value.item<double>();
            case ScalarType.Int64:
                return value.item<long>();
            default:
                using (var converted = value.to_type(ScalarType.Float64))
                    return converted.item<double>();
        }
    }
}
