namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// The training recipes by name, as a table: each row is the <see cref="TrainingSettings"/> defaults (the original's
/// legacy optimiser and schedule, augmentation off) with the fields that differ. Names are case-insensitive.
/// </summary>
public static class TrainingRecipes
{
    /// <summary>The recipe the estimator uses when none is named.</summary>
    public const string DefaultName = "default";

    private static readonly TrainingSettings Legacy = new();

    private static readonly TrainingRecipe[] Rows =
    [
        new()
        {
            Name = DefaultName,
            Description = "The legacy recipe shortened for the CPU: 50 epochs of batch 64, random crop (padding 4) and flip, no policy, no mixing.",
            Settings = Legacy with { Epochs = 50, BatchSize = 64, RandomCropPadding = 4, HorizontalFlip = true },
        },
        new()
        {
            Name = "cifar-legacy",
            Description = "The original's legacy CIFAR recipe (its 200-epoch tables, Bukatin's runs): AdamW 5e-4, wd 3e-2, batch 128, " +
                "5 warmup epochs then cosine, smoothing 0.1, AutoAugment CIFAR-10, crop 32 pad 4, flip, no mixup.",
            Settings = Legacy with
            {
                Epochs = 200, BatchSize = 128, LearningRate = 5e-4, WeightDecay = 3e-2, WarmupEpochs = 5,
                WarmupStartLearningRate = 1e-5, MinLearningRate = 1e-5, LabelSmoothing = 0.1,
                AugmentationPolicy = AugmentationPolicy.AutoAugmentCifar10, RandomCropPadding = 4, HorizontalFlip = true,
            },
            Dropout = 0, AttentionDropout = 0.1, StochasticDepth = 0.1,
        },
        new()
        {
            Name = "cifar-timm",
            Description = "The original's current timm recipe for CIFAR (CCT-7/3x1): AdamW 5.5e-4, wd 0.06, batch 128, 300 epochs, " +
                "10 warmup epochs from 1e-5, cosine to 1e-5, smoothing 0.1, RandAugment m9 mstd0.5, mixup 0.8 / CutMix 1.0 switch 0.5, random erasing 0.25, crop pad 4, flip " +
                "(the crop with padding stands in for timm's random-resized crop 0.8-1).",
            Settings = Legacy with
            {
                Epochs = 300, BatchSize = 128, LearningRate = 5.5e-4, WeightDecay = 0.06, WarmupEpochs = 10,
                WarmupStartLearningRate = 1e-5, MinLearningRate = 1e-5, LabelSmoothing = 0.1,
                AugmentationPolicy = AugmentationPolicy.RandAugment, RandAugmentOperations = 2, RandAugmentMagnitude = 9, RandAugmentMagnitudeStd = 0.5,
                MixupAlpha = 0.8, CutMixAlpha = 1.0, MixProbability = 1.0, MixSwitchProbability = 0.5,
                RandomErasingProbability = 0.25, RandomCropPadding = 4, HorizontalFlip = true,
            },
            Dropout = 0, AttentionDropout = 0.1, StochasticDepth = 0.1,
        },
        new()
        {
            // Few images: a short schedule (each epoch is few steps, and a CPU budget is the usual constraint), smaller
            // batches for more updates per epoch, and regularisation from the data side (a random policy and light
            // mixing, half the images) rather than a longer run: transformers overfit small sets quickly, and strong
            // augmentation is what lets them learn there (Hassani et al., Lee et al. 2021).
            Name = "small-data",
            Description = "For a few thousand images or fewer (e.g. a 1,000-image CIFAR subset): 100 epochs of batch 32, 5 warmup epochs, " +
                "wd 0.05, smoothing 0.1, RandAugment m9 mstd0.5, mixup 0.8 / CutMix 1.0 on half the images, crop pad 4, flip, stochastic depth 0.1.",
            Settings = Legacy with
            {
                Epochs = 100, BatchSize = 32, LearningRate = 5e-4, WeightDecay = 0.05, WarmupEpochs = 5,
                WarmupStartLearningRate = 1e-5, MinLearningRate = 1e-5, LabelSmoothing = 0.1,
                AugmentationPolicy = AugmentationPolicy.RandAugment, RandAugmentOperations = 2, RandAugmentMagnitude = 9, RandAugmentMagnitudeStd = 0.5,
                MixupAlpha = 0.8, CutMixAlpha = 1.0, MixProbability = 0.5, MixSwitchProbability = 0.5,
                RandomCropPadding = 4, HorizontalFlip = true,
            },
            Dropout = 0, AttentionDropout = 0.1, StochasticDepth = 0.1,
        },
    ];

    /// <summary>Every recipe name, in table order.</summary>
    public static IReadOnlyList<string> Names { get; } = Rows.Select(r => r.Name).ToArray();

    /// <summary>The recipe called <paramref name="name"/> (null: <see cref="DefaultName"/>).</summary>
    /// <exception cref="ArgumentException">No recipe has that name; the message lists the names.</exception>
    public static TrainingRecipe Get(string? name)
    {
        name ??= DefaultName;
        return Rows.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"No training recipe is called '{name}'; the recipes are {string.Join(", ", Names)}.", nameof(name));
    }
}
