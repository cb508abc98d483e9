namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The shape of a CCT / CVT / ViT-Lite network: everything needed to build it, as plain data.
/// Named configurations of the original live in <see cref="CctPresets"/>; any field can be overridden
/// with a <c>with</c> expression, or the whole record written free-form.
/// </summary>
public sealed record CctArchitecture
{
    /// <summary>Preset name, or null for a free-form configuration.</summary>
    public string? Name { get; init; }

    /// <summary>Number of encoder layers.</summary>
    public int NumLayers { get; init; } = 7;

    /// <summary>Number of attention heads; must divide <see cref="EmbeddingDim"/>.</summary>
    public int NumHeads { get; init; } = 4;

    /// <summary>Token (embedding) width d.</summary>
    public int EmbeddingDim { get; init; } = 256;

    /// <summary>MLP hidden width = int(d * MlpRatio).</summary>
    public double MlpRatio { get; init; } = 2.0;

    /// <summary>Convolutional (CCT) or patch (CVT, ViT-Lite) tokenizer.</summary>
    public TokenizerKind Tokenizer { get; init; } = TokenizerKind.Convolutional;

    /// <summary>Convolution kernel (CCT) or patch size (patch tokenizer).</summary>
    public int KernelSize { get; init; } = 3;

    /// <summary>Number of convolution blocks of the CCT tokenizer (1 for a patch tokenizer).</summary>
    public int NumConvLayers { get; init; } = 1;

    /// <summary>Width of the hidden convolution blocks (the original's <c>in_planes</c>).</summary>
    public int ConvHiddenChannels { get; init; } = 64;

    /// <summary>Input image height in pixels.</summary>
    public int ImageHeight { get; init; } = 32;

    /// <summary>Input image width in pixels.</summary>
    public int ImageWidth { get; init; } = 32;

    /// <summary>Input channels (3 for RGB, 1 for grayscale).</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>Number of classes of the classifier head.</summary>
    public int NumClasses { get; init; } = 10;

    /// <summary>Learnable, sine or no positional embedding.</summary>
    public PositionalEmbeddingKind PositionalEmbedding { get; init; } = PositionalEmbeddingKind.Learnable;

    /// <summary>Sequence pooling (CCT, CVT) or class token (ViT-Lite).</summary>
    public PoolingKind Pooling { get; init; } = PoolingKind.Sequence;

    /// <summary>Dropout after the positional embedding, in the MLP and after the attention projection (original: 0).</summary>
    public double Dropout { get; init; }

    /// <summary>Dropout on the attention weights (original: 0.1).</summary>
    public double AttentionDropout { get; init; } = 0.1;

    /// <summary>Largest per-sample drop-path rate; layer i uses linspace(0, this, layers)[i] (original: 0.1).</summary>
    public double StochasticDepth { get; init; } = 0.1;

    /// <summary>Original (checkpoint-compatible) or corrected pre-norm encoder layer.</summary>
    public NormPlacement NormPlacement { get; init; } = NormPlacement.Original;

    /// <summary>Convolution stride of the tokenizer: max(1, k/2 - 1) for CCT, k for patches.</summary>
    public int ConvStride => Tokenizer == TokenizerKind.Patch ? KernelSize : Math.Max(1, KernelSize / 2 - 1);

    /// <summary>Convolution padding of the tokenizer: max(1, k/2) for CCT, 0 for patches.</summary>
    public int ConvPadding => Tokenizer == TokenizerKind.Patch ? 0 : Math.Max(1, KernelSize / 2);

    /// <summary>MLP hidden width.</summary>
    public int MlpHiddenDim => (int)(EmbeddingDim * MlpRatio);

    /// <summary>Token grid (height, width) the tokenizer produces for <see cref="ImageHeight"/> x <see cref="ImageWidth"/>.</summary>
    public (int Height, int Width) TokenGrid => (GridSide(ImageHeight), GridSide(ImageWidth));

    /// <summary>Number of image tokens N (without a class token).</summary>
    public int NumTokens => TokenGrid.Height * TokenGrid.Width;

    /// <summary>Length of the sequence the encoder sees (N, plus one for a class token).</summary>
    public int SequenceLength => NumTokens + (Pooling == PoolingKind.ClassToken ? 1 : 0);

    /// <summary>
    /// Elements of the largest single tensor a training forward pass makes per image: a tokenizer convolution's output
    /// (before pooling), the attention weights (heads x L x L), the qkv projection (L x 3d) or the MLP's hidden layer.
    /// </summary>
    internal long LargestActivationElements
    {
        get
        {
            long length = SequenceLength;
            long largest = Math.Max(NumHeads * length * length, length * Math.Max(3L * EmbeddingDim, MlpHiddenDim));
            int layers = Tokenizer == TokenizerKind.Patch ? 1 : NumConvLayers;
            int height = ImageHeight, width = ImageWidth;
            for (int i = 0; i < layers; i++)
            {
                (height, width) = (ConvolvedSide(height), ConvolvedSide(width));
                long channels = i == layers - 1 ? EmbeddingDim : ConvHiddenChannels;
                largest = Math.Max(largest, channels * height * width);
                (height, width) = (PooledSide(height), PooledSide(width));
            }
            return largest;
        }
    }

    private int GridSide(int pixels)
    {
        int size = pixels;
        int layers = Tokenizer == TokenizerKind.Patch ? 1 : NumConvLayers;
        for (int i = 0; i < layers; i++)
            size = PooledSide(ConvolvedSide(size));
        return size;
    }

    private int ConvolvedSide(int size) => (size + 2 * ConvPadding - KernelSize) / ConvStride + 1;

    // MaxPool2d(3, stride 2, padding 1) after every CCT convolution; none after a patch embedding.
    private int PooledSide(int size) => Tokenizer == TokenizerKind.Convolutional ? (size + 2 * 1 - 3) / 2 + 1 : size;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that cannot build a network.</summary>
    public void Validate()
    {
        Require(NumLayers >= 1, nameof(NumLayers), NumLayers, "at least 1");
        Require(NumHeads >= 1, nameof(NumHeads), NumHeads, "at least 1");
        Require(EmbeddingDim >= 1 && EmbeddingDim % NumHeads == 0, nameof(EmbeddingDim), EmbeddingDim, $"a positive multiple of NumHeads ({NumHeads})");
        Require(MlpRatio > 0 && MlpHiddenDim >= 1, nameof(MlpRatio), MlpRatio, "positive");
        Require(KernelSize >= 1, nameof(KernelSize), KernelSize, "at least 1");
        Require(NumConvLayers >= 1, nameof(NumConvLayers), NumConvLayers, "at least 1");
        Require(ImageHeight >= 1, nameof(ImageHeight), ImageHeight, "at least 1");
        Require(ImageWidth >= 1, nameof(ImageWidth), ImageWidth, "at least 1");
        Require(InputChannels >= 1, nameof(InputChannels), InputChannels, "at least 1");
        Require(NumClasses >= 1, nameof(NumClasses), NumClasses, "at least 1");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), Dropout, "in [0, 1)");
        Require(AttentionDropout is >= 0 and < 1, nameof(AttentionDropout), AttentionDropout, "in [0, 1)");
        Require(StochasticDepth is >= 0 and < 1, nameof(StochasticDepth), StochasticDepth, "in [0, 1)");
        var grid = TokenGrid;
        Require(grid.Height >= 1 && grid.Width >= 1, nameof(ImageHeight), $"{ImageHeight}x{ImageWidth}",
            $"large enough to give at least one token with kernel {KernelSize} and {NumConvLayers} conv layer(s)");
    }

    private static void Require(bool ok, string field, object value, string expected)
    {
        if (!ok)
            throw new ArgumentException($"CctArchitecture.{field} is {value}; expected {expected}.", field);
    }
}
