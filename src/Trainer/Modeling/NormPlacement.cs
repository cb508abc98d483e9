namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>Where the encoder layer applies <c>norm1</c>.</summary>
public enum NormPlacement
{
    /// <summary>
    /// The original's placement, used by every published checkpoint: after the attention residual the
    /// residual stream itself is normalised (<c>x = norm1(x + attn(pre_norm(x))); x = x + mlp(x)</c>).
    /// </summary>
    Original,

    /// <summary>The corrected pre-norm form: <c>x = x + attn(pre_norm(x)); x = x + mlp(norm1(x))</c>.</summary>
    PreNorm,
}
