namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Mixup and CutMix per image (timm's <c>Mixup</c> in "elem" mode): each image of a batch makes its own decisions:
/// whether to mix at all, mixup or CutMix, and the weight. Its partner is the image at the mirrored batch position
/// (b and B-1-b), taken as it was before mixing. The returned weights say how much of each image is still its own;
/// the loss mixes the two labels' smoothed targets with them.
/// </summary>
/// <remarks>
/// Works on raw pixels, before normalisation: both operations are convex combinations per pixel, which commute
/// with the per-channel affine normalisation, so the result equals timm's mixing of normalised tensors.
/// </remarks>
internal sealed class MixupCutMix
{
    private float[] originals = [];

    public MixupCutMix(double mixupAlpha, double cutMixAlpha, double probability, double switchProbability)
    {
        if (!(mixupAlpha > 0) && !(cutMixAlpha > 0))
            throw new ArgumentException("Mixup or CutMix needs a positive alpha.");
        MixupAlpha = mixupAlpha;
        CutMixAlpha = cutMixAlpha;
        Probability = probability;
        SwitchProbability = switchProbability;
    }

    /// <summary>The mixing <paramref name="settings"/> ask for, or null when mixup and CutMix are both off.</summary>
    public static MixupCutMix? For(TrainingSettings settings) =>
        settings.MixupAlpha > 0 || settings.CutMixAlpha > 0
            ? new MixupCutMix(settings.MixupAlpha, settings.CutMixAlpha, settings.MixProbability, settings.MixSwitchProbability)
            : null;

    public double MixupAlpha { get; }
    public double CutMixAlpha { get; }
    public double Probability { get; }
    public double SwitchProbability { get; }

    /// <summary>
    /// Mixes the <paramref name="count"/> images of <paramref name="pixels"/> in place and writes, per image, the
    /// weight of its own label into <paramref name="ownWeights"/> (1 when it was not mixed).
    /// </summary>
    public void Apply(Span<float> pixels, int count, int channels, int height, int width, Span<float> ownWeights, Random random)
    {
        int size = channels * height * width;
        if (originals.Length < count * size)
            originals = new float[count * size];
        var before = originals.AsSpan(0, count * size);
        pixels[..(count * size)].CopyTo(before);
        for (int b = 0; b < count; b++)
        {
            ownWeights[b] = 1;
            if (random.NextDouble() >= Probability)
                continue;
            bool cutMix = CutMixAlpha > 0 && (!(MixupAlpha > 0) || random.NextDouble() < SwitchProbability);
            double lambda = random.NextBeta(cutMix ? CutMixAlpha : MixupAlpha, cutMix ? CutMixAlpha : MixupAlpha);
            var image = pixels.Slice(b * size, size);
            var partner = before.Slice((count - 1 - b) * size, size);
            ownWeights[b] = cutMix
                ? PasteBox(image, partner, channels, height, width, lambda, random)
                : Blend(image, partner, lambda);
        }
    }

    private static float Blend(Span<float> image, ReadOnlySpan<float> partner, double lambda)
    {
        float own = (float)lambda, other = (float)(1 - lambda);
        for (int i = 0; i < image.Length; i++)
            image[i] = own * image[i] + other * partner[i];
        return own;
    }

    // timm's rand_bbox: a box of side ratio sqrt(1 - lambda) centred uniformly, clipped to the image; the weight is the
    // share of the image left unpasted, which the clipping can make larger than lambda.
    private static float PasteBox(Span<float> image, ReadOnlySpan<float> partner, int channels, int height, int width, double lambda, Random random)
    {
        double ratio = Math.Sqrt(1 - lambda);
        int boxHeight = (int)(height * ratio), boxWidth = (int)(width * ratio);
        int cy = random.Next(height), cx = random.Next(width);
        int y0 = Math.Clamp(cy - boxHeight / 2, 0, height), y1 = Math.Clamp(cy + boxHeight / 2, 0, height);
        int x0 = Math.Clamp(cx - boxWidth / 2, 0, width), x1 = Math.Clamp(cx + boxWidth / 2, 0, width);
        int plane = height * width;
        for (int c = 0; c < channels; c++)
            for (int y = y0; y < y1; y++)
            {
                int at = c * plane + y * width + x0;
                partner.Slice(at, x1 - x0).CopyTo(image.Slice(at, x1 - x0));
            }
        return (float)(1 - (double)(y1 - y0) * (x1 - x0) / plane);
    }
}
