namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// A random per-image transform of raw (not yet normalised) planar CHW pixels, applied in place while a
/// training batch is assembled. Every random decision comes from the <see cref="Random"/> passed in, so a
/// seeded run makes the same decisions again.
/// </summary>
internal abstract class ImageAugmentation
{
    /// <summary>Transforms one image in place.</summary>
    /// <param name="image">channels * height * width values.</param>
    /// <param name="channels">Channels of the image.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="random">Source of every random decision.</param>
    public abstract void Apply(Span<float> image, int channels, int height, int width, Random random);

    /// <summary>
    /// The augmentations <paramref name="settings"/> ask for, in the original's legacy order: the policy (AutoAugment
    /// or RandAugment), then the crop, then the flip; then random erasing, which timm applies last.
    /// </summary>
    /// <param name="settings">The training settings.</param>
    /// <param name="normalization">The input normalisation, which random erasing needs to draw normalised noise.</param>
    public static IReadOnlyList<ImageAugmentation> For(TrainingSettings settings, PixelNormalization? normalization = null)
    {
        var list = new List<ImageAugmentation>();
        switch (settings.AugmentationPolicy)
        {
            case AugmentationPolicy.AutoAugmentCifar10:
                list.Add(new AutoAugmentCifar10());
                break;
            case AugmentationPolicy.RandAugment:
                list.Add(new RandAugment(settings.RandAugmentOperations, settings.RandAugmentMagnitude, settings.RandAugmentMagnitudeStd));
                break;
        }
        if (settings.RandomCropPadding > 0)
            list.Add(new RandomCropWithPadding(settings.RandomCropPadding));
        if (settings.HorizontalFlip)
            list.Add(new RandomHorizontalFlip(0.5));
        if (settings.RandomErasingProbability > 0)
            list.Add(new RandomErasing(settings.RandomErasingProbability,
                normalization ?? throw new ArgumentNullException(nameof(normalization), "Random erasing needs the input normalisation.")));
        return list;
    }
}
