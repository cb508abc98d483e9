using Microsoft.ML.CompactTransformer.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Data;

public class ImageDatasetDataViewTests
{
    [Fact]
    public void TheViewReadsBackAsTheSameImagesLabelsAndClasses()
    {
        var ml = new MLContext(seed: 1);
        var bytes = ImageDataset.FromBytes(Enumerable.Range(0, 3 * 2 * 2 * 2).Select(i => (byte)(i * 7)).ToArray(), [2, 0, 1], 2, 2, 2, ["a", "b", "c"]);
        var floats = ImageDataset.FromFloats(Enumerable.Range(0, 2 * 1 * 2 * 3).Select(i => i * 0.25f - 0.1f).ToArray(), [1, 0], 1, 2, 3, ["x", "y"]);
        foreach (var data in new[] { bytes, floats })
        {
            var view = ImageDatasetDataView.ToDataView(ml, data, "L", "P");
            var back = DataViewImageReader.Read(view, "L", "P", data.Channels, data.Height, data.Width);
            Assert.Equal(data.ClassNames, back.ClassNames);
            Assert.Equal(data.Labels.ToArray(), back.Labels.ToArray());
            Assert.Equal(data.StoresBytes, back.StoresBytes);
            Assert.Equal(data.BytePixels.ToArray(), back.BytePixels.ToArray());
            Assert.Equal(data.FloatPixels.ToArray(), back.FloatPixels.ToArray());
        }
    }
}
