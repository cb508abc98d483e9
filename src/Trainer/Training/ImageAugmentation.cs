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

    /// <summary>The augmentations <paramref name="settings"/> ask for, in the original's order (crop, then flip).</summary>
    public static IReadOnlyList<ImageAugmentation> For(TrainingSettings settings)
    {
        var list = new List<ImageAugmentation>();
        if (settings.RandomCropPadding > 0)
            list.Add(new RandomCropWithPadding(settings.RandomCropPadding));
        if (settings.HorizontalFlip)
            list.Add(new RandomHorizontalFlip(0.5));
        return list;
    }
}
