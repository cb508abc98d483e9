using Microsoft.ML.CompactTransformer.Data;
using Xunit;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

public class ImageFolderDatasetReaderTests
{
    private static string TrainFolder => Path.Combine(FashionMnist20.Root, "train");

    [Fact]
    public void ReadsTheClassFoldersInTheGivenOrderToTheSourcePixels()
    {
        ImageDataset set = ImageFolderDatasetReader.Read(TrainFolder, channels: 1, classOrder: FashionMnist20.FolderClassOrder);

        Assert.Equal((20, 1, 28, 28), (set.Count, set.Channels, set.Height, set.Width));
        Assert.Equal(FashionMnist20.FolderClassOrder, set.ClassNames);
        // Files come class by class, then by name: match each to its labels.csv row by path.
        var expectedOrder = FashionMnist20.Rows.OrderBy(r => r.Label).ThenBy(r => r.Path, StringComparer.Ordinal).ToArray();
        for (int i = 0; i < set.Count; i++)
        {
            Assert.Equal(expectedOrder[i].Label, set.Labels[i]);
            Assert.Equal(FashionMnist20.IdxRecord(expectedOrder[i].SourceIndex), set.BytePixels.Slice(i * 784, 784).ToArray());
        }
        // Bag has no image among the first 20 records: the class stays, with no images.
        Assert.DoesNotContain(8, set.Labels.ToArray());
    }

    [Fact]
    public void SortsClassFoldersOrdinallyByDefaultAndResizesToRgb()
    {
        ImageDataset set = ImageFolderDatasetReader.Read(TrainFolder, channels: 3, height: 14, width: 14);

        string[] folders = Directory.GetDirectories(TrainFolder).Select(Path.GetFileName).Select(n => n!).ToArray();
        Assert.Equal(folders.OrderBy(n => n, StringComparer.Ordinal), set.ClassNames);
        Assert.Equal("Ankle_boot", set.ClassNames[0]);
        Assert.Equal((3, 14, 14), (set.Channels, set.Height, set.Width));
        // Gray source: the three planes are equal.
        ReadOnlySpan<byte> first = set.BytePixels[..set.ImageSize];
        Assert.True(first[..196].SequenceEqual(first.Slice(196, 196)));
        Assert.True(first[..196].SequenceEqual(first.Slice(392, 196)));
        Assert.Contains(first.ToArray(), v => v > 0);
    }

    [Fact]
    public void AFolderOutsideTheClassOrderIsNamed()
    {
        string[] withoutTrouser = FashionMnist20.FolderClassOrder.Where(n => n != "Trouser").ToArray();

        var e = Assert.Throws<InvalidDataException>(() => ImageFolderDatasetReader.Read(TrainFolder, 1, classOrder: withoutTrouser));
        Assert.Contains("Trouser", e.Message);
    }
}
