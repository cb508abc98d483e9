using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class PixelNormalizationTests
{
    [Fact]
    public void StatisticsArePerChannelAfterScaling()
    {
        // Two 2-channel 1x2 images: channel 0 holds 0, 10, 20, 30; channel 1 is constant 50.
        var data = ImageDataset.FromBytes([0, 10, 50, 50, 20, 30, 50, 50], [0, 1], 2, 1, 2, ["a", "b"]);
        var n = PixelNormalization.FromStatistics(data, 0.1);
        Assert.Equal(0.1, n.Scale);
        Assert.Equal(1.5, n.Mean[0], 12);
        Assert.Equal(Math.Sqrt(125) * 0.1, n.Std[0], 12);
        Assert.Equal(5.0, n.Mean[1], 12);
        Assert.Equal(1.0, n.Std[1]); // constant channel: centred only
    }

    [Fact]
    public void ApplyIsTheFormulaThroughTheExposedFloatCoefficients()
    {
        TorchRuntime();
        var n = new PixelNormalization(1.0 / 255, [0.5, 0.25], [0.2, 0.4]);
        var raw = new float[] { 0, 51, 255, 128, 3, 200, 17, 90 };
        using var pixels = tensor(raw, [1, 2, 2, 2]);
        using var normalized = n.Apply(pixels);
        var values = normalized.data<float>().ToArray();
        for (int i = 0; i < raw.Length; i++)
        {
            int c = i / 4;
            Assert.Equal((raw[i] / 255.0 - n.Mean[c]) / n.Std[c], values[i], 5);
            Assert.Equal(raw[i] * n.Multipliers[c] + n.Offsets[c], values[i]); // bitwise: what an exporter folds in
        }
    }

    [Fact]
    public void OneValueServesEveryChannelAndAWrongCountIsRejected()
    {
        var gray = new PixelNormalization(1, [0.5], [0.25]).ForChannels(3);
        Assert.Equal([0.5, 0.5, 0.5], gray.Mean);
        Assert.Throws<ArgumentException>(() => PixelNormalization.Cifar10.ForChannels(1));
        Assert.Throws<ArgumentException>(() => new PixelNormalization(1, [0.5], [0]));
    }

    [Fact]
    public void BatchLoaderGivesTheNormalisedPixelsAndLabelsOfTheIndices()
    {
        TorchRuntime();
        var data = QuadrantImages.Create(10, seed: 1);
        var n = new PixelNormalization(1.0 / 255, [0.3], [0.2]);
        using var loader = new BatchLoader(data, 4, n, CPU);
        int[] indices = [7, 2, 7];
        using var scope = NewDisposeScope();
        var (images, labels, weights) = loader.Load(indices, random: null);
        Assert.Null(weights); // no mixing asked for
        Assert.Equal([3L, 1, 8, 8], images.shape);
        Assert.Equal(new long[] { 3, 2, 3 }, labels.data<long>().ToArray());
        var expectedPixels = new float[3 * 64];
        data.CopyBatch(indices, expectedPixels, new long[3]);
        using var expected = n.Apply(tensor(expectedPixels, [3, 1, 8, 8]));
        Assert.True(images.allclose(expected, rtol: 0, atol: 0));
        // A shorter batch after a longer one sees only its own images.
        var (one, oneLabel, _) = loader.Load([0], random: null);
        Assert.Equal([1L, 1, 8, 8], one.shape);
        Assert.Equal(0, oneLabel.item<long>());
    }

    private static void TorchRuntime() => Native.TorchRuntime.EnsureInitialized();
}
