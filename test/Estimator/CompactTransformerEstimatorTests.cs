using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.CompactTransformer.Tests.Support;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.CompactTransformer.Tests.Estimator;

public class CompactTransformerEstimatorTests
{
    private static (MLContext Ml, IDataView Train, IDataView Test, CompactTransformerModel Model, List<EpochMetrics> Seen) TrainTiny()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(160, seed: 1));
        var test = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(40, seed: 2));
        var seen = new List<EpochMetrics>();
        var options = SyntheticImages.TinyOptions();
        options.MetricsCallback = seen.Add;
        var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(train, test);
        return (ml, train, test, model, seen);
    }

    [Fact]
    public void FitLearnsAndEvaluateWorks()
    {
        var (ml, _, test, model, seen) = TrainTiny();
        using var _ = model;
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.True(metrics.MicroAccuracy >= 0.9, $"accuracy {metrics.MicroAccuracy} on a trivially learnable task");
        Assert.Equal(8, model.History.Epochs.Count);
        Assert.Equal(model.History.Epochs.Select(e => e.Epoch), seen.Select(e => e.Epoch));
        Assert.NotNull(model.History.Epochs[^1].ValidationTop1);
        Assert.Equal(1, model.Architecture.InputChannels);
        Assert.Equal((8, 8, 4), (model.Architecture.ImageHeight, model.Architecture.ImageWidth, model.Architecture.NumClasses));
    }

    [Fact]
    public void OutputColumnsFollowMlNetConventions()
    {
        var (_, _, test, model, _) = TrainTiny();
        using var _ = model;
        var scored = model.Transform(test);
        var score = scored.Schema["Score"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 4), score.Type);
        VBuffer<ReadOnlyMemory<char>> names = default;
        score.GetSlotNames(ref names);
        Assert.Equal(SyntheticImages.ClassNames, names.DenseValues().Select(n => n.ToString()));

        var predicted = scored.Schema["PredictedLabel"];
        Assert.Equal(new KeyDataViewType(typeof(uint), 4), predicted.Type);
        VBuffer<ReadOnlyMemory<char>> keys = default, labelKeys = default;
        predicted.GetKeyValues(ref keys);
        scored.Schema["Label"].GetKeyValues(ref labelKeys);
        Assert.Equal(labelKeys.DenseValues().Select(n => n.ToString()), keys.DenseValues().Select(n => n.ToString()));

        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var labels = scored.GetColumn<uint>("PredictedLabel").ToArray();
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(1.0, scores[i].Sum(), 4);
            Assert.Equal((uint)(Array.IndexOf(scores[i], scores[i].Max()) + 1), labels[i]);
        }
    }

    [Fact]
    public void PredictionEngineAndOnnxBytesAgreeWithBatchTransform()
    {
        var (ml, _, test, model, _) = TrainTiny();
        using var _ = model;
        var rows = SyntheticImages.Rows(6, seed: 9);
        var batch = ml.Data.CreateEnumerable<ScoreRow>(model.Transform(SyntheticImages.KeyedView(ml, rows)), reuseRowObject: false).ToArray();
        var engine = ml.Model.CreatePredictionEngine<SyntheticImages.Row, ScoreRow>(model);
        using var session = new InferenceSession(model.GetOnnxModel());
        for (int i = 0; i < rows.Length; i++)
        {
            var single = engine.Predict(rows[i]);
            Assert.Equal(batch[i].Score, single.Score);
            using var input = OrtValue.CreateTensorValueFromMemory(rows[i].Features, new long[] { rows[i].Features.Length });
            using var outputs = session.Run(new RunOptions(), new[] { "Features" }, new[] { input }, new[] { "Score" });
            var onnx = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            for (int k = 0; k < onnx.Length; k++)
                Assert.Equal(batch[i].Score[k], onnx[k], 6);
        }
    }

    [Fact]
    public void SavedZipLoadsAndScoresBitwiseInAProcessWithoutOurAssembly()
    {
        var (ml, _, test, model, _) = TrainTiny();
        using var _ = model;
        var folder = Directory.CreateTempSubdirectory("cct-estimator-").FullName;
        try
        {
            var rows = SyntheticImages.Rows(5, seed: 11);
            var view = ml.Data.LoadFromEnumerable(rows);
            var zip = Path.Combine(folder, "model.zip");
            ml.Model.Save(model, view.Schema, zip);
            var expected = view.Schema;
            var ours = model.Transform(view).GetColumn<float[]>("Score").ToArray();

            var features = Path.Combine(folder, "features.bin");
            File.WriteAllBytes(features, MemoryMarshal.AsBytes(rows.SelectMany(r => r.Features).ToArray().AsSpan()).ToArray());
            var result = Path.Combine(folder, "result.json");
            FreshProcessScorer.Run(zip, features, "Features", result);
            var root = JsonDocument.Parse(File.ReadAllText(result)).RootElement;
            var theirs = root.GetProperty("ScoreBits").EnumerateArray()
                .Select(r => r.EnumerateArray().Select(b => BitConverter.UInt32BitsToSingle(b.GetUInt32())).ToArray()).ToArray();
            Assert.Equal(ours, theirs);
            Assert.Equal(SyntheticImages.ClassNames, root.GetProperty("KeyValues").EnumerateArray().Select(v => v.GetString()));
            Assert.DoesNotContain(root.GetProperty("LoadedAssemblies").EnumerateArray().Select(v => v.GetString()!),
                a => a.StartsWith("Microsoft.ML.CompactTransformer", StringComparison.Ordinal));

            // And in this process, through ML.NET's own loader.
            var loaded = ml.Model.Load(zip, out var schema);
            Assert.Equal(ours, loaded.Transform(view).GetColumn<float[]>("Score").ToArray());
            Assert.NotNull(schema.GetColumnOrNull("Features"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void OutputSchemaDeclaresScoreAndPredictedLabel()
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(8, seed: 1));
        var shape = ml.MulticlassClassification.Trainers.CompactTransformer().GetOutputSchema(SchemaShapes.Of(data.Schema));
        var score = shape.Single(c => c.Name == "Score");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        var predicted = shape.Single(c => c.Name == "PredictedLabel");
        Assert.True(predicted.IsKey);
        Assert.Contains(shape, c => c.Name == "Features");
    }

    [Fact]
    public void CancelledFitReturnsAUsableModel()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(64, seed: 1));
        using var cancel = new CancellationTokenSource();
        var options = SyntheticImages.TinyOptions(epochs: 20);
        options.MetricsCallback = m => { if (m.Epoch == 2) cancel.Cancel(); };
        using var model = new CompactTransformerEstimator(options).Fit(train, null, cancel.Token);
        Assert.Equal(2, model.History.Epochs.Count); // stopped at the next batch boundary after epoch 2
        var scores = model.Transform(train).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(64, scores.Length);
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 4));
    }

    private sealed class NumberRow
    {
        [VectorType(SyntheticImages.Side * SyntheticImages.Side)]
        public float[] Features { get; set; } = Array.Empty<float>();

        public uint Digit { get; set; }
    }

    [Fact]
    public void PredictedLabelKeepsNumericKeyValuesOfTheLabel()
    {
        var ml = new MLContext(seed: 1);
        var rows = SyntheticImages.Rows(32, seed: 1)
            .Select(r => new NumberRow { Features = r.Features, Digit = (uint)(Array.IndexOf(SyntheticImages.ClassNames, r.Label) * 10 + 7) }).ToArray();
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", nameof(NumberRow.Digit)).Fit(raw).Transform(raw);
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(SyntheticImages.TinyOptions(1)).Fit(data);
        var scored = model.Transform(data);
        var predicted = scored.Schema["PredictedLabel"];
        Assert.Equal(new KeyDataViewType(typeof(uint), 4), predicted.Type);
        VBuffer<uint> keys = default, labelKeys = default;
        predicted.GetKeyValues(ref keys);
        scored.Schema["Label"].GetKeyValues(ref labelKeys);
        Assert.Equal(labelKeys.DenseValues(), keys.DenseValues());
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var labels = scored.GetColumn<uint>("PredictedLabel").ToArray();
        for (int i = 0; i < scores.Length; i++)
            Assert.Equal((uint)(Array.IndexOf(scores[i], scores[i].Max()) + 1), labels[i]);
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = Array.Empty<float>();
        public uint PredictedLabel { get; set; }
    }
}
