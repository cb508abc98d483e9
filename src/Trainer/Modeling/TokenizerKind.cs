namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>How an image is turned into a sequence of tokens.</summary>
public enum TokenizerKind
{
    /// <summary>CCT: convolution blocks (Conv2d without bias, ReLU, MaxPool 3/2/1).</summary>
    Convolutional,

    /// <summary>CVT and ViT-Lite: one Conv2d with kernel = stride = patch size and a bias; no activation or pooling.</summary>
    Patch,
}
