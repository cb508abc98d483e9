using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>The device pipeline against the per-image CPU pipeline: the same batches, bit for bit.</summary>
public class DeviceBatchStreamTests
{
    private static readonly PixelNormalization Normalization = new(1.0 / 255, [0.3], [0.25]);

    private static ImageDataset Floats(ImageDataset bytes)
    {
        var pixels = new float[bytes.Count * bytes.ImageSize];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = bytes.BytePixels[i];
        return ImageDataset.FromFloats(pixels, bytes.Labels.ToArray(), bytes.Channels, bytes.Height, bytes.Width, bytes.ClassNames.ToArray());
    }

    private static List<(float[] Images, long[] Labels)> Drain(IBatchSource source, int[] order, Random? random)
    {
        source.Begin(order, random);
        var batches = new List<(float[], long[])>();
        for (int start = 0; start < order.Length; start += source.BatchSize)
        {
            using var scope = NewDisposeScope();
            var (images, labels, weights) = source.Next();
            Assert.Null(weights);
            batches.Add((images.data<float>().ToArray(), labels.data<long>().ToArray()));
        }
        Assert.Throws<InvalidOperationException>(() => source.Next());
        return batches;
    }

    public static TheoryData<int, bool, bool> Augmentations => new()
    {
        { 0, false, false },
        { 2, false, false },
        { 0, true, false },
        { 3, true, false },
        { 3, true, true },  // float pixels
        { 9, true, false }, // padding beyond the image: some crops are all zero
    };

    [Theory]
    [MemberData(nameof(Augmentations))]
    public void GivesTheSameBatchesAsThePerImageLoader(int padding, bool flip, bool floats)
    {
        var data = QuadrantImages.Create(100, seed: 4);
        if (floats)
            data = Floats(data);
        var augmentations = ImageAugmentation.For(new TrainingSettings { RandomCropPadding = padding, HorizontalFlip = flip });
        var order = Enumerable.Range(0, data.Count).ToArray();
        new Random(9).Shuffle(order);

        using var loader = new BatchLoader(data, 24, Normalization, CPU, augmentations);
        // A small chunk (2 batches) so that the pass crosses chunk boundaries and the worker prefetches.
        using var stream = new DeviceBatchStream(data, 24, Normalization, CPU, BatchCropAndFlip.From(augmentations), chunkBytes: 2 * 24 * data.ImageSize * (floats ? sizeof(float) : 1));
        var expected = Drain(loader, order, new Random(17));
        var actual = Drain(stream, order, new Random(17));

        Assert.Equal(48, stream.ChunkImages);
        Assert.Equal(3, stream.ChunksSent); // 100 images: 48 + 48 + 4
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Labels, actual[i].Labels);
            Assert.Equal(expected[i].Images, actual[i].Images); // exact float equality
        }
        if (padding > 0 || flip)
        {
            // The decisions were used: without a random source the images differ.
            var plain = Drain(stream, order, random: null);
            Assert.NotEqual(expected[0].Images, plain[0].Images);
        }
    }

    [Fact]
    public void APassCanRestartAndTheChunkIsWholeBatches()
    {
        var data = QuadrantImages.Create(50, seed: 4);
        using var stream = new DeviceBatchStream(data, 8, Normalization, CPU, chunkBytes: 20 * data.ImageSize);
        Assert.Equal(16, stream.ChunkImages); // 20 images' worth, rounded down to whole batches
        var order = Enumerable.Range(0, data.Count).ToArray();
        var first = Drain(stream, order, null);
        var second = Drain(stream, order, null);
        Assert.Equal(first.SelectMany(b => b.Images), second.SelectMany(b => b.Images));
        Assert.Equal(data.Labels.ToArray().Select(l => (long)l), first.SelectMany(b => b.Labels));
        Assert.Equal(2, first[^1].Labels.Length);

        using var large = new DeviceBatchStream(data, 8, Normalization, CPU);
        Assert.Equal(56, large.ChunkImages); // never more than the data set needs
    }

    [Fact]
    public void OnlyCropFlipAndNoMixingStayOnTheDevice()
    {
        var normalization = Normalization;
        Assert.True(DeviceBatchStream.Supports([], null));
        Assert.True(DeviceBatchStream.Supports(ImageAugmentation.For(new TrainingSettings { RandomCropPadding = 4 }), null));
        Assert.True(DeviceBatchStream.Supports(ImageAugmentation.For(new TrainingSettings { HorizontalFlip = true }), null));
        Assert.True(DeviceBatchStream.Supports(ImageAugmentation.For(new TrainingSettings { RandomCropPadding = 4, HorizontalFlip = true }), null));
        Assert.False(DeviceBatchStream.Supports(ImageAugmentation.For(new TrainingSettings { AugmentationPolicy = AugmentationPolicy.RandAugment }), null));
        Assert.False(DeviceBatchStream.Supports(ImageAugmentation.For(new TrainingSettings { RandomErasingProbability = 0.25 }, normalization), null));
        Assert.False(DeviceBatchStream.Supports([], new MixupCutMix(0.8, 0, 1, 0.5)));
        Assert.Null(BatchCropAndFlip.From([new RandomHorizontalFlip(0.5), new RandomCropWithPadding(2)])); // not the order the per-image path draws in
    }

    [Fact]
    public void CropAndFlipMoveEveryPixelWhereTheDefinitionSays()
    {
        // One 1x3x4 image with distinct values, shifted down 1 and left 2 (dy = -1, dx = +2), then mirrored.
        var values = Enumerable.Range(1, 12).Select(v => (float)v).ToArray();
        using var image = tensor(values, [1, 1, 3, 4]);
        var crop = BatchCropAndFlip.From([new RandomCropWithPadding(2), new RandomHorizontalFlip(0.5)])!;
        using var decisions = tensor(new long[] { -1, 2, 1 }, [3, 1]);
        using var output = crop.Apply(image, decisions);
        var actual = output.data<float>().ToArray();
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
            {
                int sx = (4 - 1 - x) + 2, sy = y - 1; // flip first undoes the mirror, then the crop's shift
                float expected = sy is >= 0 and < 3 && sx is >= 0 and < 4 ? values[sy * 4 + sx] : 0;
                Assert.Equal(expected, actual[y * 4 + x]);
            }
    }
}
