using System.IO.Compression;
using Microsoft.ML.CompactTransformer.Tests.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

/// <summary>Tiny data and fast flags for the training commands, and checks of the files they write.</summary>
internal static class TrainingFixture
{
    /// <summary>The 20 Fashion-MNIST PNGs (9 class folders), one tree without a test split.</summary>
    public static string Tree => Path.Combine(FashionMnist20.Root, "train");

    /// <summary>
    /// Data and recipe flags that train in well under a second an epoch on two cores: 15 training and 5 validation images of 16x16,
    /// one thread so that runs repeat exactly.
    /// </summary>
    public static string[] FastFlags(int epochs) =>
    [
        "--data", Tree, "--validation-fraction", "0.25", "--channels", "1", "--image-size", "16",
        "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch-size", "8", "--threads", "1",
    ];

    public static readonly string[] HistoryColumns =
        ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_top5", "lr", "alpha", "beta", "seconds", "images_per_second"];

    /// <summary>The header and rows of a CSV without quoted cells.</summary>
    public static (string[] Header, string[][] Rows) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        return (lines[0].Split(','), lines.Skip(1).Select(l => l.Split(',')).ToArray());
    }

    public static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} is missing");
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.Equal(signature, File.ReadAllBytes(path).Take(8).ToArray());
    }

    /// <summary>Loads a model zip the way any ML.NET user would and returns the size of its Score output.</summary>
    public static int ScoreSize(string modelPath)
    {
        var ml = new MLContext(seed: 0);
        var model = ml.Model.Load(modelPath, out var inputSchema);
        try
        {
            var score = model.GetOutputSchema(inputSchema)[DefaultColumns.Score];
            return ((Microsoft.ML.Data.VectorDataViewType)score.Type).Size;
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    /// <summary>Writes <c>{split}-images-idx3-ubyte</c> and <c>{split}-labels-idx1-ubyte</c> (gzip when asked) of random 8x8 images.</summary>
    public static void WriteIdx(string folder, string split, int count, int classes, bool gzip, int seed)
    {
        var random = new Random(seed);
        const int side = 8;
        var images = new byte[16 + count * side * side];
        var labels = new byte[8 + count];
        BigEndian(images, 0, 0x803);
        BigEndian(images, 4, count);
        BigEndian(images, 8, side);
        BigEndian(images, 12, side);
        random.NextBytes(images.AsSpan(16));
        BigEndian(labels, 0, 0x801);
        BigEndian(labels, 4, count);
        for (int i = 0; i < count; i++)
            labels[8 + i] = (byte)(i % classes);
        Write(Path.Combine(folder, $"{split}-images-idx3-ubyte"), images, gzip);
        Write(Path.Combine(folder, $"{split}-labels-idx1-ubyte"), labels, gzip);
    }

    private static void BigEndian(byte[] into, int at, int value) => System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(into.AsSpan(at), value);

    private static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }
        using var file = File.Create(path + ".gz");
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
    }
}
