using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Tests.Data;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.CompactTransformer.Tests.Estimator;

/// <summary>
/// Each kind of feature column trains, and the model prepares new rows exactly as training read them:
/// its scores equal the bare ONNX graph's on the pixels the training reader produced.
/// </summary>
public class InputKindTests
{
    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private static IDataView Images(MLContext ml) => ml.Data.LoadFromEnumerable(
        FashionMnist20.Rows.Select(r => new PathRow { ImagePath = r.Path, Label = r.LabelName }).ToArray());

    public static TheoryData<string> Kinds => new() { "image", "resized-image", "encoded-bytes", "byte-pixels", "float-pixels" };

    private static IEstimator<ITransformer> Preparation(MLContext ml, string kind)
    {
        var key = ml.Transforms.Conversion.MapValueToKey("Label");
        return kind switch
        {
            "image" => key.Append(ml.Transforms.LoadImages("Features", FashionMnist20.Root, nameof(PathRow.ImagePath))),
            "resized-image" => key.Append(ml.Transforms.LoadImages("Image", FashionMnist20.Root, nameof(PathRow.ImagePath)))
                .Append(ml.Transforms.ResizeImages("Features", 20, 20, "Image")),
            "encoded-bytes" => key.Append(ml.Transforms.LoadRawImageBytes("Features", FashionMnist20.Root, nameof(PathRow.ImagePath))),
            "byte-pixels" => key.Append(ml.Transforms.LoadImages("Image", FashionMnist20.Root, nameof(PathRow.ImagePath)))
                .Append(ml.Transforms.ResizeImages("Resized", 28, 28, "Image"))
                .Append(ml.Transforms.ExtractPixels("Features", "Resized", ImagePixelExtractingEstimator.ColorBits.Red, outputAsFloatArray: false)),
            "float-pixels" => key.Append(ml.Transforms.LoadImages("Image", FashionMnist20.Root, nameof(PathRow.ImagePath)))
                .Append(ml.Transforms.ResizeImages("Resized", 28, 28, "Image"))
                .Append(ml.Transforms.ExtractPixels("Features", "Resized", ImagePixelExtractingEstimator.ColorBits.Red)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ModelPreparesRowsTheWayTrainingReadThem(string kind)
    {
        var ml = new MLContext(seed: 1);
        var data = Preparation(ml, kind).Fit(Images(ml)).Transform(Images(ml));
        var options = SyntheticImages.TinyOptions(epochs: 1);
        bool imageColumn = kind is "image" or "resized-image" or "encoded-bytes";
        if (imageColumn)
        {
            options.Channels = 1;
            options.ImageHeight = 16;
            options.ImageWidth = 16;
        }
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(data);
        int side = imageColumn ? 16 : 28;
        Assert.Equal((1, side, side), (model.Architecture.InputChannels, model.Architecture.ImageHeight, model.Architecture.ImageWidth));

        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        var pixels = DataViewImageReader.Read(data, "Label", "Features", 1, side, side);
        using var session = new InferenceSession(model.GetOnnxModel());
        string input = session.InputMetadata.Keys.Single();
        var batch = new float[side * side];
        var label = new long[1];
        for (int i = 0; i < pixels.Count; i++)
        {
            pixels.CopyBatch(new[] { i }, batch, label);
            using var value = OrtValue.CreateTensorValueFromMemory(batch, new long[] { batch.Length });
            using var outputs = session.Run(new RunOptions(), new[] { input }, new[] { value }, new[] { "Score" });
            var expected = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            for (int k = 0; k < expected.Length; k++)
                Assert.Equal(expected[k], scores[i][k], 6);
        }
    }

    [Fact]
    public void EncodedBytesModelScoresButRefusesAStockSaveWithAReason()
    {
        var ml = new MLContext(seed: 1);
        var data = Preparation(ml, "encoded-bytes").Fit(Images(ml)).Transform(Images(ml));
        var options = SyntheticImages.TinyOptions(epochs: 1);
        options.Channels = 1;
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(data);
        Assert.Equal(20, model.Transform(data).GetColumn<float[]>("Score").Count());
        var path = Path.Combine(Path.GetTempPath(), $"cct-bytes-{Guid.NewGuid():N}.zip");
        var e = Assert.Throws<InvalidOperationException>(() => ml.Model.Save(model, data.Schema, path));
        Assert.Contains("LoadImages", e.Message);
        if (File.Exists(path))
            File.Delete(path);
    }

    [Fact]
    public void UnsupportedFeatureTypeListsTheAcceptedOnes()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(Images(ml)).Transform(Images(ml));
        var options = SyntheticImages.TinyOptions(1);
        options.FeatureColumnName = nameof(PathRow.ImagePath);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(data));
        Assert.Contains("'ImagePath'", e.Message);
        Assert.Contains("LoadRawImageBytes", e.Message);
    }
}
