using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The original's <c>nn.Dropout(p)</c>, drawing from <see cref="StepRandomness"/>: libtorch's global generator unless a
/// training step split over threads gave this thread a generator of its own. No parameters, so state_dicts are unchanged.
/// </summary>
public sealed class StepDropout : nn.Module<Tensor, Tensor>
{
    private readonly double probability;

    /// <summary>Creates a dropout layer that zeroes elements with probability <paramref name="probability"/> while training.</summary>
    public StepDropout(double probability) : base("Dropout")
    {
        if (probability is < 0 or >= 1 || double.IsNaN(probability))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A dropout probability is in [0, 1).");
        this.probability = probability;
    }

    /// <summary>The drop probability.</summary>
    public double Probability => probability;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => StepRandomness.Dropout(x, probability, training);
}
