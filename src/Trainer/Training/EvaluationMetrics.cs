namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Classification quality of a network on a labelled data set.</summary>
/// <param name="Count">Images evaluated.</param>
/// <param name="Loss">Mean plain cross-entropy (no label smoothing).</param>
/// <param name="Top1">Fraction whose top logit is the label.</param>
/// <param name="Top5">Fraction whose label is among the five top logits (all of them when there are fewer classes).</param>
internal sealed record EvaluationMetrics(int Count, double Loss, double Top1, double Top5);
