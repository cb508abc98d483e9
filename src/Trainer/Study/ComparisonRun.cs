using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>One training run of a comparison: a variant, a seed, and what its training recorded.</summary>
/// <param name="Variant">The attention variant trained.</param>
/// <param name="Seed">The seed of weights, order and augmentation.</param>
/// <param name="History">Per-epoch metrics (validation included when validation data was given).</param>
public sealed record ComparisonRun(VariantSpec Variant, int Seed, TrainingHistory History)
{
    /// <summary>Top-1 validation accuracy after the last epoch (NaN without validation data).</summary>
    public double FinalAccuracy => History.Epochs.Count == 0 ? double.NaN : History.Epochs[^1].ValidationTop1 ?? double.NaN;

    /// <summary>Highest top-1 validation accuracy over the epochs (NaN without validation data).</summary>
    public double BestAccuracy => History.Epochs.Select(e => e.ValidationTop1 ?? double.NaN).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Wall-clock seconds of all epochs.</summary>
    public double Seconds => History.Epochs.Sum(e => e.Seconds);
}
