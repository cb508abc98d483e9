using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// The architecture and training-recipe flags shared by <c>cct train</c>, <c>compare</c> and <c>search</c>. Every
/// nullable value that is set overrides the recipe's field of the same meaning; left null, the recipe's applies.
/// </summary>
internal sealed record RecipeArguments
{
    /// <summary>A preset name of <see cref="CctPresets"/>.</summary>
    public string Architecture { get; init; } = "cct_2_3x2_32";

    /// <summary>A name of <see cref="TrainingRecipes.Names"/>; null is the default recipe.</summary>
    public string? Recipe { get; init; }

    /// <summary>Passes over the training data.</summary>
    public int? Epochs { get; init; }

    /// <summary>Images per optimisation step.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Peak learning rate.</summary>
    public double? LearningRate { get; init; }

    /// <summary>AdamW's decoupled weight decay.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Label smoothing of the training loss.</summary>
    public double? LabelSmoothing { get; init; }

    /// <summary>Epochs of linear warmup.</summary>
    public double? WarmupEpochs { get; init; }

    /// <summary>Learning rate of the first warmup step.</summary>
    public double? WarmupStartLearningRate { get; init; }

    /// <summary>Floor of the cosine decay.</summary>
    public double? MinLearningRate { get; init; }

    /// <summary>Padding of the random crop, in pixels (0 for none).</summary>
    public int? CropPadding { get; init; }

    /// <summary>True turns random horizontal flips off (digits, text); false keeps the recipe's.</summary>
    public bool NoFlip { get; init; }

    /// <summary>Mean of the pixels scaled to 0..1: one value or one per channel; null computes it from the training images.</summary>
    public IReadOnlyList<double>? Mean { get; init; }

    /// <summary>Standard deviation of the pixels scaled to 0..1: one value or one per channel; null computes it.</summary>
    public IReadOnlyList<double>? Std { get; init; }

    /// <summary>Seed of the weights, the order and the augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>libtorch threads; 0 keeps libtorch's default.</summary>
    public int Threads { get; init; }

    /// <summary>Where training runs.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Auto;

    /// <summary>Number format of the forward pass.</summary>
    public MixedPrecision Precision { get; init; }

    /// <summary>The attention variant to train.</summary>
    public AttentionVariant Attention { get; init; } = AttentionVariant.Standard;

    /// <summary>Alpha, for the variants that take one.</summary>
    public double? Alpha { get; init; }

    /// <summary>Beta, for <see cref="AttentionVariant.Custom"/>.</summary>
    public double? Beta { get; init; }

    /// <summary>Where the variant applies; null is pooling.</summary>
    public AttentionScope? Scope { get; init; }
}
