using Microsoft.ML.CompactTransformer.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class MixupCutMixTests
{
    private const int C = 2, H = 4, W = 5, Size = C * H * W;

    // Image b is filled with the value 10 * (b + 1), so every pixel tells which images it came from.
    private static float[] Batch(int count) => Enumerable.Range(0, count * Size).Select(i => 10f * (i / Size + 1)).ToArray();

    [Fact]
    public void MixupBlendsEachImageWithItsMirroredPartnerByItsOwnWeight()
    {
        var pixels = Batch(4);
        var weights = new float[4];
        new MixupCutMix(0.8, 0, 1, 0.5).Apply(pixels, 4, C, H, W, weights, new Random(2));
        Assert.Equal(4, weights.Distinct().Count()); // a weight per image, not per batch
        for (int b = 0; b < 4; b++)
        {
            float expected = weights[b] * 10 * (b + 1) + (1 - weights[b]) * 10 * (4 - b);
            Assert.All(pixels.Skip(b * Size).Take(Size), v => Assert.Equal(expected, v, 3));
        }
    }

    [Fact]
    public void CutMixPastesABoxWhoseAreaIsThePartnersWeight()
    {
        var random = new Random(4);
        var mix = new MixupCutMix(0, 1.0, 1, 0.5);
        int boxes = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var pixels = Batch(3);
            var weights = new float[3];
            mix.Apply(pixels, 3, C, H, W, weights, random);
            for (int b = 0; b < 3; b++)
            {
                var image = pixels.Skip(b * Size).Take(Size).ToArray();
                int pasted = image.Count(v => v == 10 * (3 - b));
                Assert.All(image, v => Assert.True(v == 10 * (b + 1) || v == 10 * (3 - b)));
                if (b != 1) // the middle image is its own partner
                    Assert.Equal(1 - (double)pasted / Size, weights[b], 5);
                boxes += pasted > 0 && b != 1 ? 1 : 0;
            }
        }
        Assert.True(boxes > 10, "CutMix rarely pasted anything");
    }

    [Fact]
    public void TheSwitchAndMixProbabilitiesAreHonoured()
    {
        var random = new Random(9);
        var pixels = Batch(2);
        var weights = new float[2];
        new MixupCutMix(0.8, 1.0, probability: 0, 0.5).Apply(pixels, 2, C, H, W, weights, random);
        Assert.Equal(Batch(2), pixels);
        Assert.Equal([1f, 1f], weights);

        // Switch probability 1: always CutMix, so every pixel is one image's or the other's, never a blend.
        for (int trial = 0; trial < 10; trial++)
        {
            pixels = Batch(2);
            new MixupCutMix(0.8, 1.0, 1, switchProbability: 1).Apply(pixels, 2, C, H, W, weights, random);
            Assert.All(pixels, v => Assert.True(v is 10 or 20));
        }
    }

    [Fact]
    public void BetaDrawsHaveTheRightMean()
    {
        var random = new Random(1);
        double sum = 0;
        for (int i = 0; i < 20000; i++)
        {
            double x = random.NextBeta(0.8, 0.8);
            Assert.InRange(x, 0, 1);
            sum += x;
        }
        Assert.InRange(sum / 20000, 0.49, 0.51);
        double skewed = Enumerable.Range(0, 20000).Sum(_ => random.NextBeta(2, 6)) / 20000;
        Assert.InRange(skewed, 0.245, 0.255); // a / (a + b)
    }

    [Fact]
    public void MixedLossIsTheSoftTargetCrossEntropyWithSmoothing()
    {
        Native.TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 1, 2, 0.5f, -1, 0, 3, 2, 2, 1 }, [3, 3]);
        var labels = tensor(new long[] { 0, 2, 1 });
        var weights = tensor(new float[] { 0.7f, 1, 0.25f });
        const double e = 0.1;
        double loss = ClassificationLoss.MixedCrossEntropy(logits, labels, weights, e).item<float>();

        var logp = logits.log_softmax(1).data<float>().ToArray();
        long[] l = [0, 2, 1];
        float[] w = [0.7f, 1, 0.25f];
        double expected = 0;
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < 3; k++)
            {
                double target = w[b] * ((k == l[b] ? 1 - e : 0) + e / 3) + (1 - w[b]) * ((k == l[2 - b] ? 1 - e : 0) + e / 3);
                expected -= target * logp[b * 3 + k];
            }
        Assert.Equal(expected / 3, loss, 5);
        // Unmixed images give plain label-smoothed cross-entropy.
        double hard = ClassificationLoss.CrossEntropy(logits, labels, e).item<float>();
        Assert.Equal(hard, ClassificationLoss.MixedCrossEntropy(logits, labels, ones(3), e).item<float>(), 5);
    }
}
