using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class RandomErasingTests
{
    private static readonly PixelNormalization Normalization = new(1.0 / 255, [0.5, 0.4], [0.25, 0.2]);

    [Fact]
    public void ErasesOneRectangleWithNoiseThatIsStandardNormalAfterNormalisation()
    {
        const int c = 2, h = 16, w = 16;
        var erasing = new RandomErasing(1.0, Normalization);
        var random = new Random(3);
        var normalised = new List<double>();
        for (int trial = 0; trial < 30; trial++)
        {
            var image = Enumerable.Repeat(-1f, c * h * w).ToArray(); // a value erasing never writes
            erasing.Apply(image, c, h, w, random);
            var changed = Enumerable.Range(0, h * w).Where(i => image[i] != -1f).ToArray();
            Assert.InRange(changed.Length, (int)(0.02 * h * w) - 3, (int)(h * w / 3.0) + 8);
            // One axis-aligned rectangle, the same in both channels.
            int top = changed.Min() / w, bottom = changed.Max() / w, left = changed.Min(i => i % w), right = changed.Max(i => i % w);
            Assert.Equal((bottom - top + 1) * (right - left + 1), changed.Length);
            Assert.All(changed, i => Assert.NotEqual(-1f, image[h * w + i]));
            for (int ch = 0; ch < c; ch++)
                foreach (int i in changed)
                    normalised.Add(image[ch * h * w + i] * Normalization.Multipliers[ch] + Normalization.Offsets[ch]);
        }
        double mean = normalised.Average(), variance = normalised.Average(z => (z - mean) * (z - mean));
        Assert.InRange(mean, -0.1, 0.1);
        Assert.InRange(variance, 0.85, 1.15);
    }

    [Fact]
    public void ProbabilityDecidesPerImageAndSettingsPutItLast()
    {
        var erasing = new RandomErasing(0.25, Normalization);
        var random = new Random(1);
        int erased = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            var image = new float[2 * 8 * 8];
            erasing.Apply(image, 2, 8, 8, random);
            erased += image.Any(v => v != 0) ? 1 : 0;
        }
        Assert.InRange(erased, 70, 130);

        var list = ImageAugmentation.For(new TrainingSettings { RandomErasingProbability = 0.25, HorizontalFlip = true }, Normalization);
        Assert.Collection(list, a => Assert.IsType<RandomHorizontalFlip>(a), a => Assert.Equal(0.25, Assert.IsType<RandomErasing>(a).Probability));
        Assert.Throws<ArgumentNullException>(() => ImageAugmentation.For(new TrainingSettings { RandomErasingProbability = 0.25 }));
    }
}
