namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Mirrors the image left-right with a given probability (torchvision's <c>RandomHorizontalFlip</c>).</summary>
internal sealed class RandomHorizontalFlip : ImageAugmentation
{
    public RandomHorizontalFlip(double probability)
    {
        if (probability is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A probability must be in [0, 1].");
        Probability = probability;
    }

    /// <summary>Chance that an image is flipped.</summary>
    public double Probability { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Random random)
    {
        if (random.NextDouble() >= Probability)
            return;
        for (int row = 0; row < channels * height; row++)
            image.Slice(row * width, width).Reverse();
    }
}
