namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Named forms of the value transform <c>V' = beta * V + alpha * softmax_over_tokens(V)</c>.
/// The options' <c>Alpha</c> and <c>Beta</c> complete it where the name leaves a weight open.
/// </summary>
public enum AttentionVariant
{
    /// <summary>Plain attention and pooling: alpha 0, beta 1.</summary>
    Standard,

    /// <summary>Bukatin's softmax over the values: alpha 1, beta 0.</summary>
    SoftmaxValues,

    /// <summary>The RFP's remix: alpha as given, beta = 1 - alpha.</summary>
    Remix,

    /// <summary>Values plus their softmax: alpha as given (1 by default), beta 1.</summary>
    Additive,

    /// <summary>Values minus their softmax: alpha = -|alpha| (-1 by default), beta 1.</summary>
    Subtractive,

    /// <summary>Alpha and beta exactly as given.</summary>
    Custom,
}
