using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// The training objective: cross-entropy with label smoothing,
/// <c>(1 - e) * -log p[label] + e * mean_k(-log p[k])</c> (the original's LabelSmoothingCrossEntropy, which
/// equals PyTorch's <c>label_smoothing</c>), and its soft-target form for mixed images.
/// </summary>
internal static class ClassificationLoss
{
    /// <summary>Loss of (B, K) <paramref name="logits"/> against (B) int64 <paramref name="labels"/>.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, double smoothing, nn.Reduction reduction = nn.Reduction.Mean) =>
        nn.functional.cross_entropy(logits, labels, reduction: reduction, label_smoothing: smoothing);

    /// <summary>
    /// Mean soft-target cross-entropy of images mixed with their mirrored batch partners (<see cref="MixupCutMix"/>):
    /// the target of image b is <c>w_b * smooth(label_b) + (1 - w_b) * smooth(label_(B-1-b))</c> with
    /// <c>smooth(y) = (1 - e) * onehot(y) + e / K</c>, timm's <c>mixup_target</c> with <c>SoftTargetCrossEntropy</c>.
    /// </summary>
    /// <param name="logits">(B, K) logits.</param>
    /// <param name="labels">(B) int64 labels of the images before mixing.</param>
    /// <param name="ownWeights">(B) float weight of each image's own label.</param>
    /// <param name="smoothing">Label smoothing e.</param>
    public static Tensor MixedCrossEntropy(Tensor logits, Tensor labels, Tensor ownWeights, double smoothing)
    {
        var logProbabilities = logits.log_softmax(1);
        var own = -logProbabilities.gather(1, labels.unsqueeze(1)).squeeze(1);
        var partner = -logProbabilities.gather(1, labels.flip(0).unsqueeze(1)).squeeze(1);
        var hard = ownWeights * own + (1 - ownWeights) * partner;
        var uniform = -logProbabilities.mean([1]);
        return ((1 - smoothing) * hard + smoothing * uniform).mean();
    }
}
