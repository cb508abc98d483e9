using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// The training objective: cross-entropy with label smoothing,
/// <c>(1 - e) * -log p[label] + e * mean_k(-log p[k])</c> (the original's LabelSmoothingCrossEntropy, which
/// equals PyTorch's <c>label_smoothing</c>). One place, so that soft targets (mixup) can join later.
/// </summary>
internal static class ClassificationLoss
{
    /// <summary>Loss of (B, K) <paramref name="logits"/> against (B) int64 <paramref name="labels"/>.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, double smoothing, nn.Reduction reduction = nn.Reduction.Mean) =>
        nn.functional.cross_entropy(logits, labels, reduction: reduction, label_smoothing: smoothing);
}
