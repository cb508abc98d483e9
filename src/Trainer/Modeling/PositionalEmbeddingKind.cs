namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>The positional embedding added to the tokens before the encoder.</summary>
public enum PositionalEmbeddingKind
{
    /// <summary>A trainable (1, N, d) parameter, truncated-normal initialised with std 0.2.</summary>
    Learnable,

    /// <summary>A fixed sinusoid (sin on even channels, cos on odd, base 10000); kept in the state_dict but not trained.</summary>
    Sine,

    /// <summary>No positional embedding.</summary>
    None,
}
