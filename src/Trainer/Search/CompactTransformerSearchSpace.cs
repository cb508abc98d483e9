using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// The default search space of the Compact Transformer trainer: attention variant, alpha, beta, scope, learning rate and
/// weight decay (log scale) and model size. The attributes are AutoML's own, so with the Microsoft.ML.AutoML package the
/// class goes unchanged into <c>new SearchSpace&lt;CompactTransformerSearchSpace&gt;()</c> (see docs/SEARCH.md); the built-in
/// <see cref="CompactTransformerExperiment"/> reads the same attributes. Epochs are not a dimension: successive halving
/// uses them as its budget.
/// </summary>
public sealed class CompactTransformerSearchSpace : ICompactTransformerSearchSpace
{
    /// <summary>The value transform to train with.</summary>
    [Choice(new object[]
    {
        AttentionVariant.Standard, AttentionVariant.SoftmaxValues, AttentionVariant.Remix,
        AttentionVariant.Additive, AttentionVariant.Subtractive, AttentionVariant.Custom,
    }, AttentionVariant.Standard)]
    public AttentionVariant Attention { get; set; } = AttentionVariant.Standard;

    /// <summary>Weight of <c>softmax_over_tokens(V)</c> for the variants that take one (Remix, Additive, Subtractive, Custom).</summary>
    [Range(0.0, 1.0, 0.5, false)]
    public double Alpha { get; set; } = 0.5;

    /// <summary>Weight of the plain values for <see cref="AttentionVariant.Custom"/>.</summary>
    [Range(0.0, 1.0, 1.0, false)]
    public double Beta { get; set; } = 1.0;

    /// <summary>Where the transform applies (<see cref="AttentionScope.None"/> is left out: it is standard attention again).</summary>
    [Choice(new object[] { AttentionScope.Pooling, AttentionScope.SelfAttention, AttentionScope.Both }, AttentionScope.Pooling)]
    public AttentionScope AttentionScope { get; set; } = AttentionScope.Pooling;

    /// <summary>Peak AdamW learning rate, sampled on a log scale.</summary>
    [Range(1e-4, 1e-2, 5e-4, true)]
    public double LearningRate { get; set; } = 5e-4;

    /// <summary>Decoupled weight decay, sampled on a log scale.</summary>
    [Range(1e-3, 1e-1, 3e-2, true)]
    public double WeightDecay { get; set; } = 3e-2;

    /// <summary>Model size: a preset of the original, smallest first (the 3x2 tokenizers: 4x fewer tokens than 3x1, so a CPU budget buys several trials).</summary>
    [Choice(new object[] { "cct_2_3x2_32", "cct_4_3x2_32", "cct_6_3x2_32", "cct_7_3x2_32" }, "cct_2_3x2_32")]
    public string Architecture { get; set; } = "cct_2_3x2_32";

    /// <summary>
    /// Sets the attention, learning-rate and size fields of <paramref name="options"/>; a preset replaces any
    /// <see cref="CompactTransformerOptions.CustomArchitecture"/>, since otherwise the size dimension would silently do nothing.
    /// </summary>
    public void ApplyTo(CompactTransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Attention = Attention;
        options.Alpha = Alpha;
        options.Beta = Beta;
        options.AttentionScope = AttentionScope;
        options.LearningRate = LearningRate;
        options.WeightDecay = WeightDecay;
        options.Architecture = Architecture;
        options.CustomArchitecture = null;
    }
}
