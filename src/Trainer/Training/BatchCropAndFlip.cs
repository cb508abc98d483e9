using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// <see cref="RandomCropWithPadding"/> then <see cref="RandomHorizontalFlip"/> for a whole batch as tensor ops on the
/// batch's device (zero padding and two gathers). The decisions are drawn on the host, image after image, with the same
/// calls in the same order as the per-image path, so for the same <see cref="Random"/> both give the same images bit
/// for bit: training on the device augments exactly as training on the CPU does.
/// </summary>
internal sealed class BatchCropAndFlip
{
    /// <summary>Rows of a decision tensor: vertical shift, horizontal shift, flip (0 or 1).</summary>
    public const int DecisionRows = 3;

    private BatchCropAndFlip(int padding, double? flipProbability)
    {
        Padding = padding;
        FlipProbability = flipProbability;
    }

    /// <summary>Zero border of the crop on each side; 0 when there is no crop.</summary>
    public int Padding { get; }

    /// <summary>Chance of a flip; null when there is no flip.</summary>
    public double? FlipProbability { get; }

    /// <summary>
    /// The batched form of <paramref name="augmentations"/> when it holds only a crop and/or a flip in that order; null
    /// when it holds anything else (policies and erasing work image by image on the CPU) or nothing.
    /// </summary>
    public static BatchCropAndFlip? From(IReadOnlyList<ImageAugmentation> augmentations)
    {
        ArgumentNullException.ThrowIfNull(augmentations);
        int padding = 0;
        double? flip = null;
        int i = 0;
        if (i < augmentations.Count && augmentations[i] is RandomCropWithPadding crop)
        {
            padding = crop.Padding;
            i++;
        }
        if (i < augmentations.Count && augmentations[i] is RandomHorizontalFlip mirror)
        {
            flip = mirror.Probability;
            i++;
        }
        return i == augmentations.Count && i > 0 ? new BatchCropAndFlip(padding, flip) : null;
    }

    /// <summary>Draws one image's decisions: the crop's two shifts, then the flip, as the per-image transforms draw them.</summary>
    public (long ShiftY, long ShiftX, long Flip) Draw(Random random)
    {
        long dy = 0, dx = 0, flip = 0;
        if (Padding > 0)
        {
            dy = random.Next(0, 2 * Padding + 1) - Padding;
            dx = random.Next(0, 2 * Padding + 1) - Padding;
        }
        if (FlipProbability is { } p && random.NextDouble() < p)
            flip = 1;
        return (dy, dx, flip);
    }

    /// <summary>
    /// Crops and flips (B, C, H, W) <paramref name="images"/> by the (3, B) int64 <paramref name="decisions"/> (rows as
    /// <see cref="Draw"/> returns them), all on the images' device. Output (y, x) is input (y + dy, x' + dx) with
    /// x' = W - 1 - x when flipped, and 0 where that falls outside the image.
    /// </summary>
    public Tensor Apply(Tensor images, Tensor decisions)
    {
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        var device = images.device;
        using var scope = NewDisposeScope();
        var x = Padding > 0 ? nn.functional.pad(images, [Padding, Padding, Padding, Padding]) : images;
        if (Padding > 0)
        {
            // Row y of the output is row y + dy + p of the padded image.
            var rows = arange(h, ScalarType.Int64, device).unsqueeze(0) + (decisions[0] + Padding).unsqueeze(1);
            x = x.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, w + 2 * Padding));
        }
        var columns = arange(w, ScalarType.Int64, device).unsqueeze(0).expand(b, w);
        if (FlipProbability is not null)
            columns = columns + decisions[2].unsqueeze(1) * (columns * -2 + (w - 1)); // x, or W - 1 - x where flip = 1
        if (Padding > 0)
            columns = columns + (decisions[1] + Padding).unsqueeze(1);
        return x.gather(3, columns.reshape(b, 1, 1, w).expand(b, c, h, w)).MoveToOuterDisposeScope();
    }
}
