namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Where training runs.</summary>
public enum TrainingDevice
{
    /// <summary>CUDA when TorchSharp sees a CUDA device (a CUDA libtorch is installed and a GPU is present), otherwise the CPU.</summary>
    Auto,

    /// <summary>The CPU, always.</summary>
    Cpu,

    /// <summary>The first CUDA device; an error when TorchSharp sees none.</summary>
    Cuda,
}
