using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.Data;

namespace Microsoft.ML;

/// <summary>Catalog entry points of the Compact Transformer trainer.</summary>
public static class CompactTransformerCatalog
{
    /// <summary>
    /// Creates a Compact Convolutional Transformer trainer for image classification.
    /// </summary>
    /// <param name="catalog">The multiclass classification trainer catalog.</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="featureColumnName">Pixels (ExtractPixels), an image column (LoadImages) or encoded image bytes (LoadRawImageBytes).</param>
    /// <param name="architecture">A preset of the original, e.g. <c>cct_2_3x2_32</c> (small, fast on CPU) or <c>cct_7_3x1_32</c>.</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="learningRate">Peak AdamW learning rate (warmup, then cosine decay).</param>
    /// <param name="attention">Which value transform to train with (standard attention by default).</param>
    /// <param name="alpha">Weight of <c>softmax_over_tokens(V)</c> for the variants that take one.</param>
    /// <param name="attentionScope">Where the value transform applies.</param>
    public static CompactTransformerEstimator CompactTransformer(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumns.Label,
        string featureColumnName = DefaultColumns.Features,
        string architecture = "cct_2_3x2_32",
        int epochs = 50,
        int batchSize = 64,
        double learningRate = 5e-4,
        AttentionVariant attention = AttentionVariant.Standard,
        double? alpha = null,
        AttentionScope attentionScope = AttentionScope.Pooling)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new CompactTransformerEstimator(new CompactTransformerOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Architecture = architecture,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
            Attention = attention,
            Alpha = alpha,
            AttentionScope = attentionScope,
        });
    }

    /// <summary>Creates a Compact Convolutional Transformer trainer from <paramref name="options"/>.</summary>
    /// <param name="catalog">The multiclass classification trainer catalog.</param>
    /// <param name="options">All settings; see <see cref="CompactTransformerOptions"/>.</param>
    public static CompactTransformerEstimator CompactTransformer(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, CompactTransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new CompactTransformerEstimator(options);
    }
}
