namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// timm's <c>RandomErasing</c> in its "pixel" mode, as the original's timm recipe uses it: with a probability, a
/// rectangle of 2%..33% of the image, aspect ratio log-uniform in 0.3..3.3, at a uniform position, is replaced by
/// per-pixel noise that is standard normal after normalisation (up to 10 tries to fit a rectangle, else nothing).
/// </summary>
/// <remarks>
/// timm erases normalised tensors; here pixels are still raw, so the noise is mapped back through the normalisation:
/// raw = (z - offset) / multiplier per channel, which normalises to exactly z.
/// </remarks>
internal sealed class RandomErasing : ImageAugmentation
{
    private const double MinArea = 0.02, MaxArea = 1.0 / 3, MinAspect = 0.3;
    private readonly float[] multipliers;
    private readonly float[] offsets;

    public RandomErasing(double probability, PixelNormalization normalization)
    {
        if (probability is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A probability must be in [0, 1].");
        ArgumentNullException.ThrowIfNull(normalization);
        Probability = probability;
        multipliers = normalization.Multipliers.ToArray();
        offsets = normalization.Offsets.ToArray();
    }

    /// <summary>Chance that an image gets a rectangle erased.</summary>
    public double Probability { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Random random)
    {
        if (random.NextDouble() >= Probability)
            return;
        int area = height * width;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (MinArea + (MaxArea - MinArea) * random.NextDouble());
            double aspect = Math.Exp(Math.Log(MinAspect) + (Math.Log(1 / MinAspect) - Math.Log(MinAspect)) * random.NextDouble());
            int h = (int)Math.Round(Math.Sqrt(target * aspect)), w = (int)Math.Round(Math.Sqrt(target / aspect));
            if (h < 1 || w < 1 || h >= height || w >= width)
                continue;
            int top = random.Next(height - h + 1), left = random.Next(width - w + 1);
            for (int c = 0; c < channels; c++)
            {
                float m = multipliers[multipliers.Length == 1 ? 0 : c], o = offsets[offsets.Length == 1 ? 0 : c];
                for (int y = top; y < top + h; y++)
                    for (int x = left; x < left + w; x++)
                        image[c * area + y * width + x] = ((float)random.NextGaussian() - o) / m;
            }
            return;
        }
    }
}
