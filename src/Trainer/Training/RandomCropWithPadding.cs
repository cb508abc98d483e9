namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Pads the image with zeros on every side and crops a window of the original size at a random position
/// (torchvision's <c>RandomCrop(size, padding)</c>): a shift of up to <see cref="Padding"/> pixels each way.
/// </summary>
internal sealed class RandomCropWithPadding : ImageAugmentation
{
    private float[] scratch = [];

    public RandomCropWithPadding(int padding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(padding, 1);
        Padding = padding;
    }

    /// <summary>Zero border added on each side before cropping.</summary>
    public int Padding { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Random random)
    {
        // The window's top-left corner in the padded image is uniform in 0..2p on each axis.
        int dy = random.Next(0, 2 * Padding + 1) - Padding;
        int dx = random.Next(0, 2 * Padding + 1) - Padding;
        if (dy == 0 && dx == 0)
            return;
        if (scratch.Length < image.Length)
            scratch = new float[image.Length];
        var source = scratch.AsSpan(0, image.Length);
        image.CopyTo(source);
        image.Clear();
        // Output (y, x) reads input (y + dy, x + dx) where that lies inside the image; elsewhere it stays 0.
        int y0 = Math.Max(0, -dy), y1 = Math.Min(height, height - dy);
        int x0 = Math.Max(0, -dx), x1 = Math.Min(width, width - dx);
        if (y0 >= y1 || x0 >= x1)
            return;
        for (int c = 0; c < channels; c++)
        {
            int plane = c * height * width;
            for (int y = y0; y < y1; y++)
                source.Slice(plane + (y + dy) * width + x0 + dx, x1 - x0).CopyTo(image.Slice(plane + y * width + x0, x1 - x0));
        }
    }
}
