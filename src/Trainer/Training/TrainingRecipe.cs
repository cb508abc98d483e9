using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// A named training recipe: the loop's <see cref="TrainingSettings"/> plus the network's regularisation (dropout,
/// attention dropout, stochastic depth), which belong to the architecture but come with the recipe. The presets
/// live in <see cref="TrainingRecipes"/>; any field can be overridden with a <c>with</c> expression.
/// </summary>
public sealed record TrainingRecipe
{
    /// <summary>The preset name (e.g. <c>cifar-legacy</c>).</summary>
    public required string Name { get; init; }

    /// <summary>One line on what the recipe is for and where its numbers come from.</summary>
    public string Description { get; init; } = "";

    /// <summary>Optimiser, schedule, augmentation and loss settings.</summary>
    public required TrainingSettings Settings { get; init; }

    /// <summary>Dropout of the network (see <see cref="CctArchitecture.Dropout"/>); null keeps the architecture's.</summary>
    public double? Dropout { get; init; }

    /// <summary>Attention dropout of the network; null keeps the architecture's.</summary>
    public double? AttentionDropout { get; init; }

    /// <summary>Largest stochastic-depth rate of the network; null keeps the architecture's.</summary>
    public double? StochasticDepth { get; init; }

    /// <summary><paramref name="architecture"/> with this recipe's regularisation where it sets one.</summary>
    public CctArchitecture ApplyTo(CctArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return architecture with
        {
            Dropout = Dropout ?? architecture.Dropout,
            AttentionDropout = AttentionDropout ?? architecture.AttentionDropout,
            StochasticDepth = StochasticDepth ?? architecture.StochasticDepth,
        };
    }
}
