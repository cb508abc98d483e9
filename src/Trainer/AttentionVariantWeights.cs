namespace Microsoft.ML.CompactTransformer;

/// <summary>Resolves an <see cref="AttentionVariant"/> and the weights the user gave into (alpha, beta).</summary>
public static class AttentionVariantWeights
{
    private delegate (double Alpha, double Beta) Rule(double? alpha, double? beta);

    // One row per variant: how alpha and beta follow from what was given.
    private static readonly IReadOnlyDictionary<AttentionVariant, Rule> Rules = new Dictionary<AttentionVariant, Rule>
    {
        [AttentionVariant.Standard] = (_, _) => (0, 1),
        [AttentionVariant.SoftmaxValues] = (_, _) => (1, 0),
        [AttentionVariant.Remix] = (a, _) => (a ?? 0.5, 1 - (a ?? 0.5)),
        [AttentionVariant.Additive] = (a, _) => (a ?? 1, 1),
        [AttentionVariant.Subtractive] = (a, _) => (-Math.Abs(a ?? 1), 1),
        [AttentionVariant.Custom] = (a, b) => (a ?? 0, b ?? 1),
    };

    /// <summary>The (alpha, beta) pair <paramref name="variant"/> stands for, given the optional weights.</summary>
    public static (double Alpha, double Beta) Resolve(AttentionVariant variant, double? alpha = null, double? beta = null)
    {
        if (!Rules.TryGetValue(variant, out var rule))
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown attention variant.");
        return rule(alpha, beta);
    }
}
