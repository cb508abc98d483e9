using Microsoft.ML.CompactTransformer.Data;
using Xunit;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

public class ImageDatasetTests
{
    private static readonly string[] TwoClasses = { "a", "b" };

    [Fact]
    public void CopyBatchWidensBytesInIndexOrder()
    {
        // Three 1x1x2 images: [0,1], [10,11], [20,21].
        var data = ImageDataset.FromBytes(new byte[] { 0, 1, 10, 11, 20, 21 }, new[] { 0, 1, 1 }, 1, 1, 2, TwoClasses);
        var pixels = new float[3 * 2];
        var labels = new long[3];
        data.CopyBatch(new[] { 2, 0, 2 }, pixels, labels);
        Assert.Equal(new float[] { 20, 21, 0, 1, 20, 21 }, pixels);
        Assert.Equal(new long[] { 1, 0, 1 }, labels);
        Assert.True(data.StoresBytes);
        Assert.Equal(2, data.ImageSize);
    }

    [Fact]
    public void CopyBatchCopiesFloats()
    {
        var data = ImageDataset.FromFloats(new[] { 0.5f, -1f, 2.25f, 3f }, new[] { 1, 0 }, 1, 2, 1, TwoClasses);
        var pixels = new float[2];
        var labels = new long[1];
        data.CopyBatch(new[] { 1 }, pixels, labels);
        Assert.Equal(new[] { 2.25f, 3f }, pixels);
        Assert.Equal(0, labels[0]);
        Assert.False(data.StoresBytes);
    }

    [Fact]
    public void RejectsLabelsOutsideTheClassesAndShortBuffers()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ImageDataset.FromBytes(new byte[] { 1, 2 }, new[] { 0, 2 }, 1, 1, 1, TwoClasses));
        Assert.Contains("Label 2 of image 1", e.Message);

        var data = ImageDataset.FromBytes(new byte[] { 1, 2 }, new[] { 0, 1 }, 1, 1, 1, TwoClasses);
        Assert.Throws<ArgumentException>(() => data.CopyBatch(new[] { 0, 1 }, new float[1], new long[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyBatch(new[] { 2 }, new float[1], new long[1]));
    }

    [Fact]
    public void SubsetKeepsClassesAndPicksImages()
    {
        var data = ImageDataset.FromBytes(new byte[] { 5, 6, 7 }, new[] { 0, 1, 0 }, 1, 1, 1, TwoClasses);
        ImageDataset subset = data.Subset(new[] { 2, 1 });
        Assert.Equal(new byte[] { 7, 6 }, subset.BytePixels.ToArray());
        Assert.Equal(new[] { 0, 1 }, subset.Labels.ToArray());
        Assert.Equal(TwoClasses, subset.ClassNames);
    }
}
