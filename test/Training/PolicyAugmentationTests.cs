using Microsoft.ML.CompactTransformer.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class PolicyAugmentationTests
{
    // A 3x6x5 RGB image with varied 8-bit values.
    private static float[] Image(int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 3 * 6 * 5).Select(_ => (float)random.Next(0, 256)).ToArray();
    }

    private static void AssertEightBit(float[] image) =>
        Assert.All(image, v => Assert.True(v is >= 0 and <= 255 && v == MathF.Floor(v), $"{v} is not an 8-bit value"));

    [Fact]
    public void PointOperationsFollowPil()
    {
        float[] values = [0, 1, 100, 127, 128, 200, 255];
        var inverted = values.ToArray();
        PixelOperations.Invert(inverted);
        Assert.Equal([255, 254, 155, 128, 127, 55, 0], inverted);
        var posterized = values.ToArray();
        PixelOperations.Posterize(posterized, 2); // keep the top two bits
        Assert.Equal([0, 0, 64, 64, 128, 192, 192], posterized);
        var solarized = values.ToArray();
        PixelOperations.Solarize(solarized, 128);
        Assert.Equal([0, 1, 100, 127, 127, 55, 0], solarized);
        var added = values.ToArray();
        PixelOperations.SolarizeAdd(added, 100);
        Assert.Equal([100, 101, 200, 227, 128, 200, 255], added);
    }

    [Fact]
    public void AutoContrastAndEqualizeStretchEachChannel()
    {
        float[] image = [50, 60, 70, 80, /* second channel, flat */ 9, 9, 9, 9];
        PixelOperations.AutoContrast(image, 2);
        Assert.Equal([0, 85, 170, 255, 9, 9, 9, 9], image);

        // PIL: step = (n - count of the top value) / 255 = 0 for 4 values: unchanged; with 512 values it equalises.
        var flatish = Enumerable.Range(0, 512).Select(i => (float)(i < 256 ? 10 : 20)).ToArray();
        PixelOperations.Equalize(flatish, 1);
        Assert.Equal([0f, 255f], flatish.Distinct().Order()); // the lower half maps to 0, the upper to the top
    }

    [Fact]
    public void TranslationShiftsAndFillsWithGrey()
    {
        var image = Enumerable.Range(0, 4 * 4).Select(i => (float)i).ToArray();
        PixelOperations.TranslateX(image, 1, 4, 4, 1);
        for (int y = 0; y < 4; y++)
        {
            Assert.Equal([4 * y + 1, 4 * y + 2, 4 * y + 3, PixelOperations.Fill], image.Skip(4 * y).Take(4));
        }
        var rotated = Enumerable.Range(0, 4 * 4).Select(i => (float)i).ToArray();
        PixelOperations.Rotate(rotated, 1, 4, 4, 90);
        // A quarter turn of a square maps the grid onto itself: the same values, rearranged, no fill.
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (float)i), rotated.Order());
        Assert.NotEqual(Enumerable.Range(0, 16).Select(i => (float)i), rotated);
    }

    [Fact]
    public void EveryOperationAtEveryMagnitudeKeepsEightBitValues()
    {
        foreach (var operation in Enum.GetValues<PixelOperation>())
            foreach (int bin in new[] { 0, 4, 9 })
                foreach (double sign in new[] { -1.0, 1.0 })
                {
                    var image = Image();
                    operation.Apply(image, 3, 6, 5, AutoAugmentCifar10.Argument(operation, bin, sign, 5, 6));
                    AssertEightBit(image);
                    var other = Image();
                    operation.Apply(other, 3, 6, 5, RandAugment.Argument(operation, bin + 0.5, sign, 5, 6));
                    AssertEightBit(other);
                }
    }

    [Fact]
    public void MagnitudesMapAsTheirAuthorsTabulatedThem()
    {
        Assert.Equal(0.3, AutoAugmentCifar10.Argument(PixelOperation.ShearX, 9, 1, 32, 32), 12);
        Assert.Equal(-30, AutoAugmentCifar10.Argument(PixelOperation.Rotate, 9, -1, 32, 32), 12);
        Assert.Equal(8, AutoAugmentCifar10.Argument(PixelOperation.Posterize, 0, 1, 32, 32));
        Assert.Equal(4, AutoAugmentCifar10.Argument(PixelOperation.Posterize, 9, 1, 32, 32));
        Assert.Equal(256, AutoAugmentCifar10.Argument(PixelOperation.Solarize, 0, 1, 32, 32));
        Assert.Equal(1.9, AutoAugmentCifar10.Argument(PixelOperation.Brightness, 9, 1, 32, 32), 12);
        Assert.Equal(25, AutoAugmentCifar10.Count);
        Assert.Equal(27, RandAugment.Argument(PixelOperation.Rotate, 9, 1, 32, 32), 12);
        Assert.Equal(3, RandAugment.Argument(PixelOperation.Posterize, 9, 1, 32, 32));
        Assert.Equal(0.45 * 32, RandAugment.Argument(PixelOperation.TranslateY, 10, 1, 32, 32), 12);
    }

    [Theory]
    [InlineData(AugmentationPolicy.AutoAugmentCifar10)]
    [InlineData(AugmentationPolicy.RandAugment)]
    public void PoliciesDecidePerImageAndRepeatWithTheSeed(AugmentationPolicy policy)
    {
        var augmentation = Assert.Single(ImageAugmentation.For(new TrainingSettings { AugmentationPolicy = policy }));
        var outcomes = new HashSet<string>();
        var random = new Random(5);
        var replay = new Random(5);
        for (int i = 0; i < 40; i++)
        {
            var image = Image();
            augmentation.Apply(image, 3, 6, 5, random);
            AssertEightBit(image);
            outcomes.Add(string.Join(",", image));
            var again = Image();
            augmentation.Apply(again, 3, 6, 5, replay);
            Assert.Equal(image, again);
        }
        Assert.True(outcomes.Count >= 10, $"only {outcomes.Count} distinct results from 40 images");
    }

    [Fact]
    public void PoliciesComeBeforeCropAndFlip()
    {
        var list = ImageAugmentation.For(new TrainingSettings { AugmentationPolicy = AugmentationPolicy.RandAugment, RandomCropPadding = 2, HorizontalFlip = true });
        Assert.Collection(list, a => Assert.IsType<RandAugment>(a), a => Assert.IsType<RandomCropWithPadding>(a), a => Assert.IsType<RandomHorizontalFlip>(a));
    }

    [Fact]
    public void IdenticalImagesInOneBatchComeOutDifferent()
    {
        Native.TorchRuntime.EnsureInitialized();
        var one = QuadrantImages.Create(1, seed: 3);
        var settings = new TrainingSettings
        {
            AugmentationPolicy = AugmentationPolicy.RandAugment, RandomCropPadding = 2, HorizontalFlip = true, MixupAlpha = 0.8, CutMixAlpha = 1,
        };
        var normalization = new PixelNormalization(1.0 / 255, [0.5], [0.25]);
        using var loader = new BatchLoader(one, 8, normalization, CPU, ImageAugmentation.For(settings), MixupCutMix.For(settings));
        using var scope = NewDisposeScope();
        var (images, _, weights) = loader.Load(new int[8], new Random(1));
        var rows = Enumerable.Range(0, 8).Select(b => string.Join(",", images[b].data<float>().ToArray())).ToHashSet();
        Assert.True(rows.Count >= 6, $"8 copies of one image gave only {rows.Count} different results");
        Assert.NotNull(weights);
    }
}
