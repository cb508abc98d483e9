namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>What a training run leaves besides the trained weights (which stay in the network).</summary>
/// <param name="History">One entry per completed epoch.</param>
/// <param name="Normalization">The input normalisation the network was trained with: part of the model.</param>
/// <param name="Steps">Optimisation steps taken.</param>
/// <param name="Cancelled">True when the run stopped at a batch boundary on request; the interrupted epoch is not in <paramref name="History"/>.</param>
internal sealed record TrainingResult(TrainingHistory History, PixelNormalization Normalization, long Steps, bool Cancelled)
{
    /// <summary>1-based epoch whose weights the network ended with, when an early-stopping metric picked one; null otherwise (the last weights).</summary>
    public int? BestEpoch { get; init; }

    /// <summary>True when the early-stopping patience ended the run before its last epoch.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>The device the run used (<c>cpu</c>, <c>cuda:0</c>), which with <see cref="TrainingDevice.Auto"/> says whether it fell back to the CPU.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>True when the batches were cut, augmented and normalised on the device (<see cref="DeviceBatchStream"/>) rather than image by image on the CPU.</summary>
    public bool BatchesOnDevice { get; init; }
}
