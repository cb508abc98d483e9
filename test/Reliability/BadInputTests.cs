using System.Globalization;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Support;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Bad input to Fit, one test per kind: each goes through the public API and checks the exception's type and that its
/// message names the column, option or value and what was expected; each error comes before the first training step.
/// </summary>
public class BadInputTests
{
    private const string Features = "Features";
    private const string Label = "Label";

    /// <summary>Tiny options that record whether a single training step ran.</summary>
    private static CompactTransformerOptions Options(StepRecorder steps)
    {
        var options = SyntheticImages.TinyOptions(epochs: 1);
        options.StepCallbackEvery = 1;
        options.StepCallback = steps.Seen.Add;
        return options;
    }

    private sealed class StepRecorder
    {
        public List<StepProgress> Seen { get; } = [];
    }

    private static IDataView Keyed(MLContext ml, IEnumerable<SyntheticImages.Row> rows) => SyntheticImages.KeyedView(ml, rows.ToArray());

    private static SyntheticImages.Row[] Rows(int count = 8) => SyntheticImages.Rows(count, seed: 1);

    private static void Fit(MLContext ml, CompactTransformerOptions options, IDataView train, IDataView? validation = null)
    {
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train, validation);
    }

    // 1. A missing column: the message names it and lists the columns there are.
    [Theory]
    [InlineData("label")]
    [InlineData("feature")]
    public void MissingColumnIsNamedWithTheColumnsThatExist(string which)
    {
        var ml = new MLContext(seed: 1);
        var steps = new StepRecorder();
        var options = Options(steps);
        if (which == "label")
            options.LabelColumnName = "Target";
        else
            options.FeatureColumnName = "Pixels";
        var data = Keyed(ml, Rows());

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(ml, options, data));

        Assert.Equal("trainData", e.ParamName);
        Assert.Contains(which == "label" ? "Label column 'Target' not found" : "Feature column 'Pixels' not found", e.Message);
        Assert.Contains("'Features'", e.Message);
        Assert.Contains("'Label'", e.Message);
        Assert.Empty(steps.Seen);
    }

    // 2. A label that is not a key.
    [Fact]
    public void NonKeyLabelIsRejectedWithItsTypeAndAHintToMapValueToKey()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows());
        var steps = new StepRecorder();
        var estimator = ml.MulticlassClassification.Trainers.CompactTransformer(Options(steps));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));

        Assert.Contains("'Label'", e.Message);
        Assert.Contains(data.Schema[Label].Type.ToString()!, e.Message);
        Assert.Contains("MapValueToKey", e.Message);
        var shapeError = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(SchemaShapes.Of(data.Schema)));
        Assert.Contains("MapValueToKey", shapeError.Message);
        Assert.Empty(steps.Seen);
    }

    // 3. One class: a key type of one value, or a wider key type whose rows all hold one class.
    [Theory]
    [InlineData("one-key")]
    [InlineData("one-class-present")]
    public void SingleClassLabelIsRejectedNamingTheClass(string how)
    {
        var ml = new MLContext(seed: 1);
        string only = SyntheticImages.ClassNames[1];
        var rows = Rows().Select(r => new SyntheticImages.Row { Features = r.Features, Label = only }).ToArray();
        IDataView data;
        if (how == "one-key")
        {
            var raw = ml.Data.LoadFromEnumerable(rows);
            data = ml.Transforms.Conversion.MapValueToKey(Label).Fit(raw).Transform(raw);
            Assert.Equal(1UL, ((KeyDataViewType)data.Schema[Label].Type).Count); // the case under test
        }
        else
        {
            data = Keyed(ml, rows);
            Assert.Equal((ulong)SyntheticImages.ClassNames.Length, ((KeyDataViewType)data.Schema[Label].Type).Count);
        }
        var steps = new StepRecorder();

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, Options(steps), data));

        Assert.Equal("trainData", e.ParamName);
        Assert.Contains("'Label'", e.Message);
        Assert.Contains($"'{only}'", e.Message);
        Assert.Contains("at least 2", e.Message);
        Assert.Empty(steps.Seen);
    }

    // 4. An empty view: training data, and a validation view that was given but holds nothing.
    [Theory]
    [InlineData("trainData")]
    [InlineData("validationData")]
    public void EmptyDataViewIsRejectedNamingTheArgument(string argument)
    {
        var ml = new MLContext(seed: 1);
        var empty = Keyed(ml, []);
        var full = Keyed(ml, Rows());
        var steps = new StepRecorder();

        var (train, validation) = argument == "trainData" ? (empty, full) : (full, empty);
        var e = Assert.Throws<ArgumentException>(() => Fit(ml, Options(steps), train, validation));

        Assert.Equal(argument, e.ParamName);
        Assert.Contains($"{argument} has no rows", e.Message);
        Assert.Empty(steps.Seen);
    }

    private sealed class FiftyRow
    {
        [VectorType(50)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    // 5. A vector whose length is no C*H*W: against a shape the options give, and when no square image fits it.
    [Theory]
    [InlineData("options-shape")]
    [InlineData("no-square")]
    public void PixelVectorOfTheWrongLengthNamesTheLengthAndWhatWasExpected(string how)
    {
        var ml = new MLContext(seed: 1);
        var steps = new StepRecorder();
        var options = Options(steps);
        IDataView data;
        if (how == "options-shape")
        {
            options.Channels = 3;
            options.ImageHeight = 4;
            options.ImageWidth = 4;
            data = Keyed(ml, Rows());
        }
        else
        {
            // 50 is neither a square nor three times one.
            var rows = Rows().Select(r => new FiftyRow { Features = r.Features.Take(50).ToArray(), Label = r.Label });
            var raw = ml.Data.LoadFromEnumerable(rows);
            data = ml.Transforms.Conversion.MapValueToKey(Label).Fit(raw).Transform(raw);
        }

        var e = Assert.Throws<ArgumentException>(() => Fit(ml, options, data));

        Assert.Contains("'Features'", e.Message);
        if (how == "options-shape")
        {
            Assert.Contains($"{SyntheticImages.Side * SyntheticImages.Side} values", e.Message);
            Assert.Contains($"3x4x4 = {3 * 4 * 4}", e.Message);
        }
        else
        {
            Assert.Contains("50 values", e.Message);
            Assert.Contains("square", e.Message);
        }
        Assert.Empty(steps.Seen);
    }

    private sealed class PathRow
    {
        public string Path { get; set; } = "";

        public string Label { get; set; } = "";
    }

    private sealed class VariableRow
    {
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    // 6. Images of mixed sizes. An image column is always resized to the model's size (the options', else the
    // architecture's), so mixed sizes train and score. Pixel vectors of different lengths can only come as a
    // variable-size vector column, which is refused from its type, before any row is read, with the ways to one size.
    [Fact]
    public void MixedImageSizesAreResizedAndVariableSizePixelVectorsAreRefused()
    {
        var ml = new MLContext(seed: 1);
        string folder = Directory.CreateTempSubdirectory("cct-mixed-").FullName;
        try
        {
            var sizes = new[] { (8, 8), (12, 10), (6, 6), (9, 16) };
            var rows = new List<PathRow>();
            for (int i = 0; i < 8; i++)
            {
                var (h, w) = sizes[i % sizes.Length];
                var pixels = new byte[h * w * 4];
                new Random(i).NextBytes(pixels);
                for (int p = 3; p < pixels.Length; p += 4)
                    pixels[p] = 255;
                using (var image = MLImage.CreateFromPixels(w, h, MLPixelFormat.Rgba32, pixels))
                    image.Save(Path.Combine(folder, $"{i}.png"));
                rows.Add(new PathRow { Path = $"{i}.png", Label = SyntheticImages.ClassNames[i % 4] });
            }
            var raw = ml.Data.LoadFromEnumerable(rows);
            var images = ml.Transforms.Conversion.MapValueToKey(Label)
                .Append(ml.Transforms.LoadImages(Features, folder, nameof(PathRow.Path))).Fit(raw).Transform(raw);
            var options = SyntheticImages.TinyOptions(epochs: 1);
            options.Channels = 1;
            options.ImageHeight = 8;
            options.ImageWidth = 8;
            using (var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(images))
            {
                Assert.Equal((8, 8), (model.Architecture.ImageHeight, model.Architecture.ImageWidth));
                Assert.Equal(8, model.Transform(images).GetColumn<float[]>("Score").Count());
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var vectorRows = ml.Data.LoadFromEnumerable(Rows().Select((r, i) => new VariableRow
        {
            Features = r.Features.Take(i % 2 == 0 ? 64 : 48).ToArray(),
            Label = r.Label,
        }));
        var vectors = ml.Transforms.Conversion.MapValueToKey(Label).Fit(vectorRows).Transform(vectorRows);
        var steps = new StepRecorder();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(ml, Options(steps), vectors));

        Assert.Contains("'Features'", e.Message);
        Assert.Contains("variable-size", e.Message);
        Assert.Contains("ResizeImages", e.Message);
        Assert.Contains("ImageHeight", e.Message);
        Assert.Empty(steps.Seen);
    }

    // 7. NaN or infinite pixels, whether the reader still stores bytes (integer pixels so far) or already floats.
    [Theory]
    [InlineData(float.NaN, false)]
    [InlineData(float.PositiveInfinity, false)]
    [InlineData(float.NegativeInfinity, true)]
    [InlineData(float.NaN, true)]
    public void NonFinitePixelIsNamedWithRowColumnAndValue(float bad, bool scaledPixels)
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows();
        if (scaledPixels)
        {
            foreach (var row in rows)
                row.Features = row.Features.Select(v => v / 255f).ToArray();
        }
        rows[5].Features[10] = bad;
        var steps = new StepRecorder();

        var e = Assert.Throws<InvalidOperationException>(() => Fit(ml, Options(steps), Keyed(ml, rows)));

        Assert.Contains("Row 5 ", e.Message);
        Assert.Contains("'Features'", e.Message);
        Assert.Contains(bad.ToString(CultureInfo.InvariantCulture), e.Message);
        Assert.Contains("finite", e.Message);
        Assert.Empty(steps.Seen);
    }

    // 8. An unknown architecture name, in the options and in the catalog's flat overload.
    [Fact]
    public void UnknownArchitectureListsTheValidNames()
    {
        var ml = new MLContext(seed: 1);
        var fromOptions = Assert.Throws<ArgumentException>(() =>
            ml.MulticlassClassification.Trainers.CompactTransformer(new CompactTransformerOptions { Architecture = "cct_99_9x9_99" }));
        var fromCatalog = Assert.Throws<ArgumentException>(() =>
            ml.MulticlassClassification.Trainers.CompactTransformer(architecture: "vit_huge"));

        foreach (var (e, name) in new[] { (fromOptions, "cct_99_9x9_99"), (fromCatalog, "vit_huge") })
        {
            Assert.Contains("Architecture", e.Message);
            Assert.Contains($"'{name}'", e.Message);
            Assert.Contains("cct_2_3x2_32", e.Message);
            Assert.Contains("cct_7_3x1_32", e.Message);
            Assert.All(CctPresets.Names, preset => Assert.Contains(preset, e.Message));
        }
    }

    // 9. A batch larger than the data is allowed: every epoch is one smaller batch of all the images.
    [Fact]
    public void BatchLargerThanTheDataTrainsWithOneBatchPerEpoch()
    {
        var ml = new MLContext(seed: 1);
        var steps = new StepRecorder();
        var options = Options(steps);
        options.Epochs = 2;
        options.BatchSize = 64;

        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(Keyed(ml, Rows(8)));

        Assert.Equal(new long[] { 1, 2 }, model.History.Epochs.Select(m => m.Steps));
        Assert.NotEmpty(steps.Seen);
        Assert.All(steps.Seen, s => Assert.Equal(1, s.StepsPerEpoch));
    }

    private sealed class ByteRow
    {
        [VectorType(SyntheticImages.Side * SyntheticImages.Side)]
        public byte[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class SmallRow
    {
        [VectorType(36)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    // 10. A validation set whose schema differs from the training set's.
    [Theory]
    [InlineData("missing-label")]
    [InlineData("other-length")]
    [InlineData("other-type")]
    [InlineData("other-classes")]
    public void ValidationWithAnotherSchemaNamesValidationDataAndTheDifference(string how)
    {
        var ml = new MLContext(seed: 1);
        var train = Keyed(ml, Rows());
        var rows = SyntheticImages.Rows(8, seed: 2);
        IDataView validation = how switch
        {
            "missing-label" => ml.Transforms.DropColumns(Label).Fit(Keyed(ml, rows)).Transform(Keyed(ml, rows)),
            "other-length" => KeyedLike(ml, rows.Select(r => new SmallRow { Features = r.Features.Take(36).ToArray(), Label = r.Label })),
            "other-type" => KeyedLike(ml, rows.Select(r => new ByteRow { Features = r.Features.Select(v => (byte)v).ToArray(), Label = r.Label })),
            // The same classes, keyed in another order.
            "other-classes" => ml.Transforms.Conversion.MapValueToKey(Label)
                .Fit(ml.Data.LoadFromEnumerable(rows.Reverse())).Transform(ml.Data.LoadFromEnumerable(rows)),
            _ => throw new ArgumentOutOfRangeException(nameof(how)),
        };
        var steps = new StepRecorder();

        var e = Assert.ThrowsAny<ArgumentException>(() => Fit(ml, Options(steps), train, validation));

        Assert.Equal("validationData", e.ParamName);
        Assert.Contains("validationData", e.Message);
        switch (how)
        {
            case "missing-label":
                Assert.IsType<ArgumentOutOfRangeException>(e);
                Assert.Contains("Label column 'Label' not found", e.Message);
                break;
            case "other-length" or "other-type":
                Assert.IsType<ArgumentOutOfRangeException>(e);
                Assert.Contains("'Features'", e.Message);
                Assert.Contains(validation.Schema[Features].Type.ToString()!, e.Message);
                Assert.Contains(train.Schema[Features].Type.ToString()!, e.Message);
                break;
            default:
                Assert.IsType<ArgumentException>(e);
                Assert.Contains("'Label'", e.Message);
                Assert.Contains("same key order", e.Message);
                break;
        }
        Assert.Empty(steps.Seen);
    }

    private static IDataView KeyedLike<TRow>(MLContext ml, IEnumerable<TRow> rows) where TRow : class
    {
        var raw = ml.Data.LoadFromEnumerable(rows.ToArray());
        var keys = ml.Data.LoadFromEnumerable(SyntheticImages.ClassNames.Select(c => new SyntheticImages.Row { Label = c }));
        return ml.Transforms.Conversion.MapValueToKey(Label, keyData: ml.Transforms.SelectColumns(Label).Fit(keys).Transform(keys)).Fit(raw).Transform(raw);
    }

    /// <summary>A data view that fails when read: proves that an option is refused before the data is touched.</summary>
    private sealed class UnreadableView(DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => false;
        public DataViewSchema Schema => schema;
        public long? GetRowCount() => null;
        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            throw new InvalidOperationException("The data was read although an option should have been refused first.");
        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            throw new InvalidOperationException("The data was read although an option should have been refused first.");
    }

    // Options that cannot train: refused by the estimator's constructor, and again by Fit, before the data is read,
    // when the field was changed after construction.
    [Theory]
    [InlineData("Epochs", 0)]
    [InlineData("BatchSize", -4)]
    [InlineData("LearningRate", 0)]
    [InlineData("LearningRate", -1e-3)]
    public void NonPositiveTrainingOptionIsRefusedByName(string option, double value)
    {
        var ml = new MLContext(seed: 1);
        void Set(CompactTransformerOptions o)
        {
            switch (option)
            {
                case "Epochs": o.Epochs = (int)value; break;
                case "BatchSize": o.BatchSize = (int)value; break;
                default: o.LearningRate = value; break;
            }
        }
        var atConstruction = SyntheticImages.TinyOptions(epochs: 1);
        Set(atConstruction);
        var constructorError = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.CompactTransformer(atConstruction));

        var later = SyntheticImages.TinyOptions(epochs: 1);
        var estimator = ml.MulticlassClassification.Trainers.CompactTransformer(later);
        Set(later);
        var fitError = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(new UnreadableView(Keyed(ml, Rows()).Schema)));

        foreach (var e in new[] { constructorError, fitError })
        {
            Assert.Contains($"CompactTransformerOptions.{option} is {value.ToString(CultureInfo.InvariantCulture)}", e.Message);
            Assert.Contains("expected", e.Message);
        }
    }

    // The catalog's flat overload goes through the same check.
    [Fact]
    public void FlatCatalogOverloadRefusesNonPositiveEpochs()
    {
        var ml = new MLContext(seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.CompactTransformer(epochs: 0));
        Assert.Contains("Epochs is 0", e.Message);
    }
}
