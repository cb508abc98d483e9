using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Data;
using SkiaSharp;

namespace Benchmarks;

/// <summary>Data loading: decoding an image-folder tree, and how often Fit reads its IDataViews.</summary>
internal static class DataBenchmark
{
    /// <summary>
    /// Writes <paramref name="count"/> random 32x32 RGB PNGs into ten class folders under a temporary folder, then reads
    /// the tree with <see cref="ImageFolderDatasetReader"/>; images per second of the faster of two reads (the files are in
    /// the page cache either way, having just been written, so this is decoding, not disk).
    /// </summary>
    public static (double Parallel, double Serial) FolderImagesPerSecond(int count)
    {
        string root = Path.Combine(Path.GetTempPath(), "cct-bench-png-" + Environment.ProcessId);
        try
        {
            WritePngTree(root, count);
            var (_, parallel, serial) = ReadTree(root, runs: 2);
            return (parallel, serial);
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Reads an existing folder tree (e.g. CIFAR-10's 60,000 JPEGs), after one untimed read that fills the page cache,
    /// with one decoder per core and with one decoder; images per second of each (the faster of <paramref name="runs"/> reads).
    /// </summary>
    public static (int Count, double Parallel, double Serial) ReadTree(string root, int runs = 1)
    {
        double Rate(int? threads, out int count)
        {
            double best = 0;
            count = 0;
            for (int run = 0; run < runs; run++)
            {
                var clock = Stopwatch.StartNew();
                var data = ImageFolderDatasetReader.Read(root, channels: 3, maxDegreeOfParallelism: threads);
                best = Math.Max(best, data.Count / clock.Elapsed.TotalSeconds);
                count = data.Count;
            }
            return best;
        }
        // One untimed read first, so that both timed ones decode from the page cache rather than race the disk.
        ImageFolderDatasetReader.Read(root, channels: 3);
        double parallel = Rate(null, out int count);
        double serial = Rate(1, out _);
        return (count, parallel, serial);
    }

    private static void WritePngTree(string root, int count)
    {
        var random = new Random(5);
        var pixels = new byte[32 * 32 * 4];
        for (int i = 0; i < count; i++)
        {
            string folder = Path.Combine(root, SyntheticImages.ClassNames[i % SyntheticImages.ClassNames.Length]);
            Directory.CreateDirectory(folder);
            random.NextBytes(pixels);
            for (int p = 3; p < pixels.Length; p += 4)
                pixels[p] = 255; // opaque, as photos are
            using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
            using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            using var file = File.Create(Path.Combine(folder, $"{i:D5}.png"));
            encoded.SaveTo(file);
        }
    }

    /// <summary>Cursors Fit opens on its training and validation views during a 2-epoch run (one each is the target: read once, then train from the tensor cache).</summary>
    public static (int Train, int Validation) CursorsPerFit()
    {
        var ml = new MLContext(seed: 1);
        var train = new CountingDataView(ImageDatasetDataView.ToDataView(ml, SyntheticImages.Create(128, seed: 6)));
        var validation = new CountingDataView(ImageDatasetDataView.ToDataView(ml, SyntheticImages.Create(64, seed: 7)));
        var estimator = new CompactTransformerEstimator(new CompactTransformerOptions
        {
            Architecture = "cct_2_3x2_32",
            Epochs = 2,
            BatchSize = 64,
            Seed = 1,
        });
        using (estimator.Fit(train, validation))
        {
        }
        return (train.Cursors, validation.Cursors);
    }
}
