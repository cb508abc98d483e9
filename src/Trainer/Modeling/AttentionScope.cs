namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>Where the value transform <c>V' = beta * V + alpha * softmax_over_tokens(V)</c> is applied.</summary>
[Flags]
public enum AttentionScope
{
    /// <summary>Nowhere: standard attention and pooling whatever alpha and beta are.</summary>
    None = 0,

    /// <summary>Inside every encoder self-attention (the RFP's formula), per head, softmax over the token axis.</summary>
    SelfAttention = 1,

    /// <summary>In the sequence pooling, on the final LayerNorm's output (what Bukatin's fork changed).</summary>
    Pooling = 2,

    /// <summary>Both in self-attention and in the sequence pooling.</summary>
    Both = SelfAttention | Pooling,
}
