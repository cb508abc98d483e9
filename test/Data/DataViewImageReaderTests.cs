using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Xunit;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

public class DataViewImageReaderTests
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class PixelRow
    {
        public string Label { get; set; } = "";

        [VectorType(12)]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    private sealed class WidePixelRow
    {
        public uint Label { get; set; }

        [VectorType(784)]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    private sealed class OddPixelRow
    {
        public string Label { get; set; } = "";

        [VectorType(10)]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    /// <remarks>
    /// LoadFromEnumerable treats a [KeyType] field as 0-based: it stores value + 1 as the raw key, and a
    /// value at or beyond the key count as 0 (missing).
    /// </remarks>
    private sealed class RawKeyRow
    {
        [KeyType(3)]
        public uint Label { get; set; }

        [VectorType(4)]
        public float[] Pixels { get; set; } = Array.Empty<float>();
    }

    private sealed class SparseRow
    {
        public string Label { get; set; } = "";

        [VectorType(4)]
        public VBuffer<float> Pixels { get; set; }
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private static float[] Ramp(int start, int count) => Enumerable.Range(start, count).Select(i => (float)i).ToArray();

    private IDataView Keyed<T>(IEnumerable<T> rows) where T : class
    {
        IDataView data = _ml.Data.LoadFromEnumerable(rows);
        return _ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    [Fact]
    public void ReadsAPixelVectorColumnExactly()
    {
        IDataView data = Keyed(new[]
        {
            new PixelRow { Label = "cat", Pixels = Ramp(0, 12) },
            new PixelRow { Label = "dog", Pixels = Ramp(100, 12) },
            new PixelRow { Label = "cat", Pixels = Ramp(200, 12) },
        });

        ImageDataset set = DataViewImageReader.Read(data, "Label", "Pixels", channels: 3, height: 2, width: 2);

        Assert.Equal((3, 3, 2, 2), (set.Count, set.Channels, set.Height, set.Width));
        Assert.True(set.StoresBytes); // every value is an integer in 0..255
        Assert.Equal(Ramp(0, 12).Concat(Ramp(100, 12)).Concat(Ramp(200, 12)).Select(v => (byte)v), set.BytePixels.ToArray());
        Assert.Equal(new[] { 0, 1, 0 }, set.Labels.ToArray());
        Assert.Equal(new[] { "cat", "dog" }, set.ClassNames);

        var batch = new float[2 * 12];
        var labels = new long[2];
        set.CopyBatch(new[] { 1, 2 }, batch, labels);
        Assert.Equal(Ramp(100, 12).Concat(Ramp(200, 12)), batch);
        Assert.Equal(new long[] { 1, 0 }, labels);
    }

    [Fact]
    public void KeepsNonIntegralPixelsAsFloats()
    {
        float[] first = Ramp(0, 12);
        float[] second = Ramp(0, 12).Select(v => v / 255f - 0.5f).ToArray();
        IDataView data = Keyed(new[]
        {
            new PixelRow { Label = "a", Pixels = first },
            new PixelRow { Label = "b", Pixels = second },
        });

        ImageDataset set = DataViewImageReader.Read(data, "Label", "Pixels", channels: 3);

        Assert.False(set.StoresBytes);
        Assert.Equal((3, 2, 2), (set.Channels, set.Height, set.Width));
        Assert.Equal(first.Concat(second), set.FloatPixels.ToArray());
    }

    [Fact]
    public void InfersTheShapeAndNamesClassesFromNonTextKeyValues()
    {
        IDataView data = Keyed(new[]
        {
            new WidePixelRow { Label = 7, Pixels = new float[784] },
            new WidePixelRow { Label = 3, Pixels = Enumerable.Repeat(255f, 784).ToArray() },
        });

        ImageDataset set = DataViewImageReader.Read(data, "Label", "Pixels");

        Assert.Equal((1, 28, 28), (set.Channels, set.Height, set.Width));
        Assert.Equal(new[] { "7", "3" }, set.ClassNames);
        Assert.Equal(new[] { 0, 1 }, set.Labels.ToArray());
        Assert.Equal(255, set.BytePixels[784 + 500]);
    }

    [Fact]
    public void NamesClassesByIndexWithoutKeyValues()
    {
        IDataView data = _ml.Data.LoadFromEnumerable(new[]
        {
            new RawKeyRow { Label = 2, Pixels = Ramp(0, 4) },
            new RawKeyRow { Label = 0, Pixels = Ramp(4, 4) },
        });

        ImageDataset set = DataViewImageReader.Read(data, "Label", "Pixels");

        Assert.Equal(new[] { "0", "1", "2" }, set.ClassNames);
        Assert.Equal(new[] { 2, 0 }, set.Labels.ToArray());
        Assert.Equal((1, 2, 2), (set.Channels, set.Height, set.Width));
    }

    [Fact]
    public void ExpandsSparseVectors()
    {
        IDataView data = Keyed(new[]
        {
            new SparseRow { Label = "a", Pixels = new VBuffer<float>(4, 2, new[] { 5f, 7f }, new[] { 1, 3 }) },
            new SparseRow { Label = "a", Pixels = new VBuffer<float>(4, new[] { 1f, 2f, 3f, 4f }) },
        });

        ImageDataset set = DataViewImageReader.Read(data, "Label", "Pixels");

        Assert.Equal(new byte[] { 0, 5, 0, 7, 1, 2, 3, 4 }, set.BytePixels.ToArray());
    }

    [Fact]
    public void AMissingKeyNamesTheRow()
    {
        IDataView data = _ml.Data.LoadFromEnumerable(new[]
        {
            new RawKeyRow { Label = 1, Pixels = Ramp(0, 4) },
            new RawKeyRow { Label = 3, Pixels = Ramp(0, 4) }, // beyond the 3 keys: read back as missing
        });

        var e = Assert.Throws<InvalidOperationException>(() => DataViewImageReader.Read(data, "Label", "Pixels"));
        Assert.Contains("Row 1", e.Message);
        Assert.Contains("'Label'", e.Message);
    }

    [Fact]
    public void ANonKeyLabelSaysToUseMapValueToKey()
    {
        IDataView data = _ml.Data.LoadFromEnumerable(new[] { new PixelRow { Label = "cat", Pixels = Ramp(0, 12) } });

        var e = Assert.Throws<ArgumentException>(() => DataViewImageReader.Read(data, "Label", "Pixels"));
        Assert.Contains("'Label'", e.Message);
        Assert.Contains(data.Schema["Label"].Type.ToString()!, e.Message);
        Assert.Contains("mlContext.Transforms.Conversion.MapValueToKey", e.Message);
    }

    [Fact]
    public void AVectorOfNoImageSizeNamesTheColumnAndLength()
    {
        // 10 values are neither a square gray nor a square RGB image.
        IDataView odd = Keyed(new[] { new OddPixelRow { Label = "cat", Pixels = Ramp(0, 10) } });
        var e = Assert.Throws<ArgumentException>(() => DataViewImageReader.Read(odd, "Label", "Pixels"));
        Assert.Contains("'Pixels'", e.Message);
        Assert.Contains("10 values", e.Message);

        // 12 values are 3x2x2, but not the 3x32x32 asked for.
        IDataView data = Keyed(new[] { new PixelRow { Label = "cat", Pixels = Ramp(0, 12) } });
        var explicitShape = Assert.Throws<ArgumentException>(() =>
            DataViewImageReader.Read(data, "Label", "Pixels", channels: 3, height: 32, width: 32));
        Assert.Contains("'Pixels'", explicitShape.Message);
        Assert.Contains("12 values", explicitShape.Message);
    }

    [Fact]
    public void AnUnreadableFeatureTypeListsTheAcceptedTypes()
    {
        IDataView data = Keyed(new[] { new PathRow { Path = "x.png", Label = "a" } });

        var e = Assert.Throws<ArgumentException>(() => DataViewImageReader.Read(data, "Label", "Path"));
        Assert.Contains("'Path'", e.Message);
        Assert.Contains("Vector<Single>", e.Message);
        Assert.Contains("LoadRawImageBytes", e.Message);
    }

    private IDataView FixtureRows(int repeats = 1)
    {
        PathRow[] rows = Enumerable.Repeat(FashionMnist20.Rows, repeats).SelectMany(r => r)
            .Select(r => new PathRow { Path = r.Path, Label = r.LabelName }).ToArray();
        return Keyed(rows);
    }

    private static void AssertMatchesIdx(ImageDataset set, int channels)
    {
        IReadOnlyList<FashionMnist20.Row> rows = FashionMnist20.Rows;
        Assert.Equal((channels, 28, 28), (set.Channels, set.Height, set.Width));
        Assert.True(set.StoresBytes);
        for (int i = 0; i < set.Count; i++)
        {
            FashionMnist20.Row row = rows[i % rows.Count];
            byte[] expected = FashionMnist20.IdxRecord(row.SourceIndex);
            for (int c = 0; c < channels; c++)
                Assert.Equal(expected, set.BytePixels.Slice(i * set.ImageSize + c * 784, 784).ToArray());
            Assert.Equal(row.LabelName, set.ClassNames[set.Labels[i]]);
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(1, true)]
    public void ReadsAnImageColumnToTheSourcePixels(int channels, bool resizeFirst)
    {
        IDataView data = FixtureRows();
        IEstimator<ITransformer> load = _ml.Transforms.LoadImages("Image", FashionMnist20.Root, "Path");
        if (resizeFirst)
            load = load.Append(_ml.Transforms.ResizeImages("Image", 28, 28)); // hands the same instance through
        IDataView images = load.Fit(data).Transform(data);

        ImageDataset set = DataViewImageReader.Read(images, "Label", "Image", channels, height: 28, width: 28);

        Assert.Equal(20, set.Count);
        AssertMatchesIdx(set, channels);
    }

    [Fact]
    public void ReadsEncodedBytesInSeveralParallelChunks()
    {
        // 300 rows: more than one decoding chunk; the size comes from the first image.
        IDataView data = FixtureRows(repeats: 15);
        IDataView bytes = _ml.Transforms.LoadRawImageBytes("Bytes", FashionMnist20.Root, "Path").Fit(data).Transform(data);

        ImageDataset set = DataViewImageReader.Read(bytes, "Label", "Bytes", channels: 1);

        Assert.Equal(300, set.Count);
        AssertMatchesIdx(set, 1);
    }

    [Fact]
    public void ResizesLikeStockResizeImagesFill()
    {
        IDataView data = FixtureRows();
        IDataView stock = _ml.Transforms.LoadImages("Image", FashionMnist20.Root, "Path")
            .Append(_ml.Transforms.ResizeImages("Resized", 32, 32, "Image", ImageResizingEstimator.ResizingKind.Fill))
            .Append(_ml.Transforms.ExtractPixels("Pixels", "Resized"))
            .Fit(data).Transform(data);
        float[][] expected = stock.GetColumn<VBuffer<float>>("Pixels").Select(v => v.DenseValues().ToArray()).ToArray();

        ImageDataset fromImages = DataViewImageReader.Read(stock, "Label", "Image", channels: 3, height: 32, width: 32);
        IDataView bytes = _ml.Transforms.LoadRawImageBytes("Bytes", FashionMnist20.Root, "Path").Fit(data).Transform(data);
        ImageDataset fromBytes = DataViewImageReader.Read(bytes, "Label", "Bytes", channels: 3, height: 32, width: 32);
        ImageDataset fromPixels = DataViewImageReader.Read(stock, "Label", "Pixels");

        Assert.Equal((3, 32, 32), (fromPixels.Channels, fromPixels.Height, fromPixels.Width));
        float[] flat = expected.SelectMany(v => v).ToArray();
        Assert.Equal(flat, fromImages.BytePixels.ToArray().Select(b => (float)b));
        Assert.Equal(flat, fromBytes.BytePixels.ToArray().Select(b => (float)b));
        Assert.Equal(flat, fromPixels.BytePixels.ToArray().Select(b => (float)b));
        // A real resize happened: 28 -> 32 leaves the stretched image different from a padded copy.
        Assert.NotEqual(0, flat.Count(v => v != 0));
    }

    [Fact]
    public void KeepsRgbChannelOrderAndGraysWithStockWeights()
    {
        string folder = Directory.CreateTempSubdirectory("cct-data-").FullName;
        try
        {
            // One red and one blue pixel, written losslessly.
            using (MLImage image = MLImage.CreateFromPixels(2, 1, MLPixelFormat.Rgba32,
                       new byte[] { 255, 0, 0, 255, 0, 0, 255, 255 }))
            {
                image.Save(Path.Combine(folder, "rb.png"));
            }
            IDataView data = Keyed(new[] { new PathRow { Path = "rb.png", Label = "x" } });
            IDataView bytes = _ml.Transforms.LoadRawImageBytes("Bytes", folder, "Path").Fit(data).Transform(data);

            ImageDataset rgb = DataViewImageReader.Read(bytes, "Label", "Bytes", channels: 3);
            ImageDataset gray = DataViewImageReader.Read(bytes, "Label", "Bytes", channels: 1);
            ImageDataset wide = DataViewImageReader.Read(bytes, "Label", "Bytes", channels: 3, height: 1, width: 4);

            Assert.Equal(new byte[] { 255, 0, /* G */ 0, 0, /* B */ 0, 255 }, rgb.BytePixels.ToArray());
            Assert.Equal(new byte[] { 77, 28 }, gray.BytePixels.ToArray()); // 0.30 * 255, 0.11 * 255
            Assert.Equal(new byte[] { 255, 255, 0, 0, /* G */ 0, 0, 0, 0, /* B */ 0, 0, 255, 255 }, wide.BytePixels.ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
