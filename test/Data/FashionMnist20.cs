using Microsoft.ML.CompactTransformer.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

/// <summary>The embedded 20-image Fashion-MNIST fixture: PNGs, their labels.csv rows and the IDX records they came from.</summary>
internal static class FashionMnist20
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", "fashion-mnist-20");

    /// <summary>Class folder names in Fashion-MNIST label order.</summary>
    public static readonly string[] FolderClassOrder =
    {
        "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot",
    };

    public sealed record Row(string Path, int Label, string LabelName, int SourceIndex);

    /// <summary>labels.csv, ordered by source index.</summary>
    public static IReadOnlyList<Row> Rows { get; } = File.ReadAllLines(System.IO.Path.Combine(Root, "labels.csv"))
        .Skip(1)
        .Select(line => line.Split(','))
        .Select(f => new Row(f[0], int.Parse(f[2]), f[3], int.Parse(f[5])))
        .ToArray();

    private static readonly Lazy<ImageDataset> Idx = new(() => IdxDatasetReader.ReadSplit(Root, "train"));

    /// <summary>The 784 bytes of official training record <paramref name="sourceIndex"/> (0..19).</summary>
    public static byte[] IdxRecord(int sourceIndex) => Idx.Value.BytePixels.Slice(sourceIndex * 784, 784).ToArray();
}
