using Microsoft.ML.CompactTransformer.Modeling;

namespace Benchmarks;

/// <summary>
/// Floating-point operations of a CCT / CVT / ViT-Lite forward pass, counted from its layers (a multiply-add is 2):
/// tokenizer convolutions, the qkv / proj / MLP linears, the two attention matmuls (q k^T and weights x V), sequence
/// pooling and the head. Norms, softmax, GELU, pooling windows and the optimizer are left out (memory-bound; ~1.3% of
/// cct_2's training count); on the other side, training as 3x the forward counts an input gradient for the first
/// convolution, which is not computed (1.7% of cct_2's count, 0.6% of cct_7's). The two about cancel.
/// </summary>
internal static class ModelFlops
{
    /// <summary>Forward FLOPs for one image.</summary>
    public static double ForwardPerImage(CctArchitecture a)
    {
        double flops = 0;
        bool patch = a.Tokenizer == TokenizerKind.Patch;
        int layers = patch ? 1 : a.NumConvLayers;
        long h = a.ImageHeight, w = a.ImageWidth, inChannels = a.InputChannels;
        for (int i = 0; i < layers; i++)
        {
            long outChannels = i == layers - 1 ? a.EmbeddingDim : a.ConvHiddenChannels;
            h = (h + 2 * a.ConvPadding - a.KernelSize) / a.ConvStride + 1;
            w = (w + 2 * a.ConvPadding - a.KernelSize) / a.ConvStride + 1;
            flops += 2.0 * h * w * outChannels * inChannels * a.KernelSize * a.KernelSize;
            if (!patch)
            {
                // MaxPool2d(3, stride 2, padding 1): no multiply-adds, only the grid shrinks.
                h = (h + 2 - 3) / 2 + 1;
                w = (w + 2 - 3) / 2 + 1;
            }
            inChannels = outChannels;
        }
        if (h * w != a.NumTokens)
            throw new InvalidOperationException($"The FLOP counter's token grid {h}x{w} disagrees with the architecture's {a.NumTokens} tokens.");

        double n = a.SequenceLength, d = a.EmbeddingDim, m = a.MlpHiddenDim;
        double perLayer =
            2 * n * d * 3 * d      // qkv
            + 2 * n * n * d        // q k^T, all heads together
            + 2 * n * n * d        // attention weights x V
            + 2 * n * d * d        // proj
            + 2 * n * d * m * 2;   // linear1 + linear2
        flops += a.NumLayers * perLayer;
        if (a.Pooling == PoolingKind.Sequence)
            flops += 2 * n * d + 2 * n * d; // attention_pool logits, then weights x tokens
        flops += 2 * d * a.NumClasses;
        return flops;
    }

    /// <summary>Training FLOPs for one image: the backward pass costs about twice the forward (input and weight gradients).</summary>
    public static double TrainingPerImage(CctArchitecture a) => 3 * ForwardPerImage(a);
}
