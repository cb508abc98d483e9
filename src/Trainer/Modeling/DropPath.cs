using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Stochastic depth: while training, zeroes the whole residual branch of a sample with probability p
/// and scales the survivors by 1/(1-p). Identity in eval mode or when p is 0.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    private readonly double probability;

    /// <summary>Creates a drop-path with drop probability <paramref name="probability"/>.</summary>
    public DropPath(double probability) : base(nameof(DropPath))
    {
        this.probability = probability;
    }

    /// <summary>The drop probability.</summary>
    public double Probability => probability;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (!training || probability == 0)
            return x.alias();
        using var scope = NewDisposeScope();
        double keep = 1 - probability;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        var mask = (StepRandomness.Uniform(shape, x.dtype, x.device) + keep).floor_();
        return x.div(keep).mul_(mask).MoveToOuterDisposeScope();
    }
}
