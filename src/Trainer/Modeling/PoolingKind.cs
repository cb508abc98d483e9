namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>How the encoded sequence is reduced to one vector for the classifier.</summary>
public enum PoolingKind
{
    /// <summary>CCT / CVT sequence pooling: softmax-over-tokens weights from a Linear(d, 1), then a weighted sum.</summary>
    Sequence,

    /// <summary>ViT-Lite: a class token (initialised to zero) is prepended and token 0 is read out.</summary>
    ClassToken,
}
