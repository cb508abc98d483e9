using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>Adapts a learnable positional embedding to another token grid, as the original does when loading a checkpoint into another image size.</summary>
public static class PositionalEmbeddingResizer
{
    /// <summary>
    /// Resizes <paramref name="embedding"/> (1, P + N, d) laid out on a <paramref name="from"/> grid (row-major)
    /// to a <paramref name="to"/> grid by bilinear interpolation (align_corners = false). The first
    /// <paramref name="prefixTokens"/> entries (a class token) are kept as they are.
    /// </summary>
    public static Tensor Resize(Tensor embedding, (int Height, int Width) from, (int Height, int Width) to, int prefixTokens = 0)
    {
        long d = embedding.shape[2];
        long expected = prefixTokens + (long)from.Height * from.Width;
        if (embedding.dim() != 3 || embedding.shape[0] != 1 || embedding.shape[1] != expected)
            throw new ArgumentException(
                $"Positional embedding of shape ({string.Join(", ", embedding.shape)}) does not fit a {from.Height}x{from.Width} grid " +
                $"with {prefixTokens} prefix token(s); expected (1, {expected}, d).", nameof(embedding));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var prefix = embedding[.., ..prefixTokens];
        var grid = embedding[.., prefixTokens..].reshape(1, from.Height, from.Width, d).permute(0, 3, 1, 2);
        var resized = nn.functional.interpolate(grid, new long[] { to.Height, to.Width }, mode: InterpolationMode.Bilinear, align_corners: false);
        var tokens = resized.permute(0, 2, 3, 1).reshape(1, (long)to.Height * to.Width, d);
        return cat(new[] { prefix, tokens }, dim: 1).contiguous().MoveToOuterDisposeScope();
    }
}
