using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>The fixed sinusoidal positional embedding of the original.</summary>
public static class SinePositionalEmbedding
{
    /// <summary>
    /// Returns a (1, <paramref name="tokens"/>, <paramref name="dim"/>) float32 tensor with
    /// <c>pe[p, i] = p / 10000^(2*(i/2)/dim)</c>, then sin on even and cos on odd channels.
    /// The angles are computed in double and rounded to float before sin/cos, as the original does.
    /// </summary>
    public static Tensor Create(int tokens, int dim)
    {
        var angles = new float[tokens * dim];
        for (int p = 0; p < tokens; p++)
            for (int i = 0; i < dim; i++)
                angles[p * dim + i] = (float)(p / Math.Pow(10000.0, 2.0 * (i / 2) / dim));
        using var scope = NewDisposeScope();
        var pe = tensor(angles, tokens, dim);
        var even = pe[.., TensorIndex.Slice(0, null, 2)].sin();
        var odd = pe[.., TensorIndex.Slice(1, null, 2)].cos();
        pe[.., TensorIndex.Slice(0, null, 2)] = even;
        pe[.., TensorIndex.Slice(1, null, 2)] = odd;
        return pe.unsqueeze(0).MoveToOuterDisposeScope();
    }
}
