using Microsoft.ML.CompactTransformer.Data;

namespace Benchmarks;

/// <summary>Seeded random 8-bit images: the speed of everything measured here does not depend on the pixel values.</summary>
internal static class SyntheticImages
{
    public static readonly string[] ClassNames = Enumerable.Range(0, 10).Select(i => $"class{i}").ToArray();

    public static ImageDataset Create(int count, int channels = 3, int height = 32, int width = 32, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new byte[count * channels * height * width];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => i % ClassNames.Length).ToArray();
        return ImageDataset.FromBytes(pixels, labels, channels, height, width, ClassNames);
    }

    /// <summary>The first <paramref name="count"/> images as float pixels 0..255 (one array per image), for scoring.</summary>
    public static float[][] Floats(int count, int channels = 3, int height = 32, int width = 32, int seed = 2)
    {
        var data = Create(count, channels, height, width, seed);
        int size = data.ImageSize;
        return Enumerable.Range(0, count)
            .Select(i => data.BytePixels.Slice(i * size, size).ToArray().Select(b => (float)b).ToArray())
            .ToArray();
    }
}
