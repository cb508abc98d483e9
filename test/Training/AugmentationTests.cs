using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class AugmentationTests
{
    // 2 channels of 3x4, value = 100 * channel + 10 * row + column + 1 (never 0, so padding shows).
    private static float[] Image() =>
        Enumerable.Range(0, 2 * 3 * 4).Select(i => (float)(100 * (i / 12) + 10 * (i % 12 / 4) + i % 4 + 1)).ToArray();

    private static float At(float[] image, int c, int y, int x) => image[c * 12 + y * 4 + x];

    [Fact]
    public void CropShiftsByTheDrawnOffsetAndFillsWithZeros()
    {
        const int seed = 7, padding = 2;
        var draws = new Random(seed);
        int dy = draws.Next(0, 2 * padding + 1) - padding, dx = draws.Next(0, 2 * padding + 1) - padding;
        Assert.False(dy == 0 && dx == 0, "pick a seed that shifts");

        var image = Image();
        new RandomCropWithPadding(padding).Apply(image, 2, 3, 4, new Random(seed));
        var original = Image();
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                {
                    int sy = y + dy, sx = x + dx;
                    float expected = sy is >= 0 and < 3 && sx is >= 0 and < 4 ? At(original, c, sy, sx) : 0f;
                    Assert.Equal(expected, At(image, c, y, x));
                }
    }

    [Fact]
    public void CropOffsetsCoverTheWholeRange()
    {
        var crop = new RandomCropWithPadding(1);
        var random = new Random(3);
        var seen = new HashSet<float>();
        for (int i = 0; i < 200; i++)
        {
            var image = Image();
            crop.Apply(image, 2, 3, 4, random);
            seen.Add(At(image, 0, 1, 1)); // the centre-ish pixel reveals the (dy, dx) shift
        }
        Assert.Equal(9, seen.Count);
    }

    [Fact]
    public void FlipMirrorsEveryRowOrNothing()
    {
        var flip = new RandomHorizontalFlip(0.5);
        var random = new Random(1);
        int flipped = 0;
        for (int i = 0; i < 400; i++)
        {
            var image = Image();
            flip.Apply(image, 2, 3, 4, random);
            var original = Image();
            bool mirrored = At(image, 0, 0, 0) == At(original, 0, 0, 3);
            flipped += mirrored ? 1 : 0;
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 4; x++)
                        Assert.Equal(At(original, c, y, mirrored ? 3 - x : x), At(image, c, y, x));
        }
        Assert.InRange(flipped, 160, 240);
    }

    [Fact]
    public void SettingsChooseTheAugmentationsInTheOriginalsOrder()
    {
        Assert.Empty(ImageAugmentation.For(new TrainingSettings()));
        var both = ImageAugmentation.For(new TrainingSettings { RandomCropPadding = 4, HorizontalFlip = true });
        Assert.Collection(both,
            a => Assert.Equal(4, Assert.IsType<RandomCropWithPadding>(a).Padding),
            a => Assert.IsType<RandomHorizontalFlip>(a));
    }
}
