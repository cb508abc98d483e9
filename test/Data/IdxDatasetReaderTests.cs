using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.CompactTransformer.Data;
using Xunit;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

public sealed class IdxDatasetReaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cct-idx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static byte[] Idx(int magic, int[] dimensions, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        payload.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(_folder, name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    private static readonly byte[] ThreeImages = Enumerable.Range(0, 3 * 2 * 3).Select(i => (byte)(i * 10)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsATinyIdxPair(bool gzip)
    {
        string suffix = gzip ? ".gz" : "";
        Write("train-images-idx3-ubyte" + suffix, Idx(0x803, new[] { 3, 2, 3 }, ThreeImages), gzip);
        Write("train-labels-idx1-ubyte" + suffix, Idx(0x801, new[] { 3 }, new byte[] { 2, 0, 2 }), gzip);

        ImageDataset set = IdxDatasetReader.ReadSplit(_folder, "train");

        Assert.Equal((3, 1, 2, 3), (set.Count, set.Channels, set.Height, set.Width));
        Assert.Equal(ThreeImages, set.BytePixels.ToArray());
        Assert.Equal(new[] { 2, 0, 2 }, set.Labels.ToArray());
        Assert.Equal(new[] { "0", "1", "2" }, set.ClassNames);
    }

    [Fact]
    public void AWrongMagicNumberNamesTheFile()
    {
        string images = Write("images", Idx(0x801, new[] { 3 }, new byte[3]));
        string labels = Write("labels", Idx(0x801, new[] { 3 }, new byte[3]));

        var e = Assert.Throws<InvalidDataException>(() => IdxDatasetReader.Read(images, labels));
        Assert.Contains(images, e.Message);
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("0x00000803", e.Message);
    }

    [Fact]
    public void MismatchedCountsAndTruncatedFilesAreNamed()
    {
        string images = Write("images", Idx(0x803, new[] { 3, 2, 3 }, ThreeImages));
        string twoLabels = Write("labels2", Idx(0x801, new[] { 2 }, new byte[2]));
        var counts = Assert.Throws<InvalidDataException>(() => IdxDatasetReader.Read(images, twoLabels));
        Assert.Contains("2 labels", counts.Message);
        Assert.Contains("3 images", counts.Message);

        string truncated = Write("truncated", Idx(0x803, new[] { 3, 2, 3 }, ThreeImages[..^1]));
        string labels = Write("labels3", Idx(0x801, new[] { 3 }, new byte[3]));
        var e = Assert.Throws<InvalidDataException>(() => IdxDatasetReader.Read(truncated, labels));
        Assert.Contains(truncated, e.Message);

        var missing = Assert.Throws<FileNotFoundException>(() => IdxDatasetReader.ReadSplit(_folder, "t10k"));
        Assert.Contains("t10k-images-idx3-ubyte", missing.Message);
    }

    [Fact]
    public void LabelsBeyondTheGivenClassNamesAreRejected()
    {
        string images = Write("images", Idx(0x803, new[] { 3, 2, 3 }, ThreeImages));
        string labels = Write("labels", Idx(0x801, new[] { 3 }, new byte[] { 0, 1, 2 }));

        var e = Assert.Throws<InvalidDataException>(() => IdxDatasetReader.Read(images, labels, new[] { "a", "b" }));
        Assert.Contains("record 2 label 2", e.Message);
    }

    [Fact]
    public void TheEmbeddedFashionMnistRecordsHaveTheReadmeSanityValues()
    {
        ImageDataset set = IdxDatasetReader.ReadSplit(FashionMnist20.Root, "train", IdxDatasetReader.FashionMnistClassNames);

        Assert.Equal((20, 1, 28, 28), (set.Count, set.Channels, set.Height, set.Width));
        Assert.Equal(new[] { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }, set.Labels[..10].ToArray());
        byte[] row3 = Enumerable.Repeat((byte)0, 12).Concat(new byte[] { 1, 0, 0, 13, 73, 0, 0, 1, 4, 0, 0, 0, 0, 1, 1, 0 }).ToArray();
        Assert.Equal(row3, set.BytePixels.Slice(84, 28).ToArray());
        Assert.Equal("Ankle boot", set.ClassNames[set.Labels[0]]);
    }
}
