
using Microsoft.ML.CompactTransformer.Tests.Support;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>The ML.NET chain around the exported graph: scores, predicted keys, Evaluate, and Save/Load in a fresh process.</summary>
public class OnnxScoringPipelineTests
{
    // Fashion-MNIST's classes in a deliberately non-alphabetical, non-dataset order: key i + 1 = ClassNames[i].
    private static readonly string[] ClassNames =
        { "Trouser", "Bag", "Ankle boot", "Coat", "T-shirt", "Sneaker", "Pullover", "Shirt", "Dress", "Sandal" };

    private readonly ITestOutputHelper _output;

    public OnnxScoringPipelineTests(ITestOutputHelper output) => _output = output;

    private sealed class Row
    {
        public string Label { get; set; } = "";
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    private sealed record Scenario(MLContext Ml, ReferenceFixture Fixture, IDataView Data, long[] Labels, byte[] Onnx);

    /// <summary>The fixture's 4 images with its gradient-check labels, and a label key built in <see cref="ClassNames"/> order.</summary>
    private static Scenario Build()
    {
        var ml = new MLContext(seed: 1);
        var f = ReferenceFixture.Load("cct_2_3x2_28_c1");
        long[] labels = MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(Path.Combine(ReferenceFixture.Folder, "cct_2_3x2_28_c1.labels.bin"))).ToArray();
        var rows = Enumerable.Range(0, f.BatchSize).Select(r => new Row { Label = ClassNames[labels[r]], Features = f.InputRow(r) }).ToArray();
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, f.ImageSize);
        var raw = ml.Data.LoadFromEnumerable(rows, definition);
        var keyData = ml.Data.LoadFromEnumerable(ClassNames.Select(c => new { Name = c }));
        var data = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keyData).Fit(raw).Transform(raw);
        byte[] onnx = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, new OnnxExportSettings { ClassNames = ClassNames });
        return new Scenario(ml, f, data, labels, onnx);
    }

    [Fact]
    public void ChainScoresPredictsAndEvaluatesLikeTheFixture()
    {
        var s = Build();
        var chain = OnnxScoringPipeline.Create(s.Ml, s.Data.Schema, s.Onnx, "Features", ClassNames);
        var scored = chain.Transform(s.Data);

        // Output types and annotations.
        var scoreColumn = scored.Schema["Score"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 10), scoreColumn.Type);
        Assert.Equal(ClassNames, Strings(scoreColumn, slotNames: true));
        var predicted = scored.Schema["PredictedLabel"];
        Assert.Equal(10UL, Assert.IsType<KeyDataViewType>(predicted.Type).Count);
        Assert.Equal(ClassNames, Strings(predicted, slotNames: false));
        Assert.Equal(Strings(scored.Schema["Label"], slotNames: false), Strings(predicted, slotNames: false));
        foreach (var temporary in new[] { "PredictedIndex", "PredictedIndex.hash", "PredictedIndex.hashNumber", "PredictedIndex.className" })
            Assert.Null(scored.Schema.GetColumnOrNull(temporary));

        // Values: Score = softmax(fixture logits); PredictedLabel = arg-max + 1.
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var keys = scored.GetColumn<uint>("PredictedLabel").ToArray();
        double maxDiff = 0;
        for (int r = 0; r < s.Fixture.BatchSize; r++)
        {
            float[] expected = Tolerance.Softmax(s.Fixture.LogitsRow(r));
            for (int k = 0; k < 10; k++)
            {
                double diff = Math.Abs(scores[r][k] - expected[k]);
                maxDiff = Math.Max(maxDiff, diff);
                Assert.True(diff <= 1e-5 + 1e-4 * expected[k], $"row {r} score[{k}]: {scores[r][k]} vs {expected[k]}");
            }
            Assert.Equal((uint)(Array.IndexOf(scores[r], scores[r].Max()) + 1), keys[r]);
        }
        _output.WriteLine($"ML.NET chain: max |score - softmax(fixture logits)| = {maxDiff:E2}");

        // Evaluate reads Score and the label key; compare with metrics computed from the fixture logits.
        var metrics = s.Ml.MulticlassClassification.Evaluate(scored);
        double expectedLogLoss = Enumerable.Range(0, 4).Average(r => -Math.Log(Tolerance.Softmax(s.Fixture.LogitsRow(r))[s.Labels[r]]));
        double expectedAccuracy = Enumerable.Range(0, 4).Average(r =>
        {
            float[] l = s.Fixture.LogitsRow(r);
            return Array.IndexOf(l, l.Max()) == s.Labels[r] ? 1.0 : 0.0;
        });
        Assert.Equal(expectedLogLoss, metrics.LogLoss, 4);
        Assert.Equal(expectedAccuracy, metrics.MicroAccuracy, 6);
        _output.WriteLine($"Evaluate: log-loss {metrics.LogLoss:F6} (fixture {expectedLogLoss:F6}), accuracy {metrics.MicroAccuracy}");
    }

    [Fact]
    public void SavedModelScoresBitwiseEquallyInAFreshProcessWithoutOurAssembly()
    {
        var s = Build();
        var chain = OnnxScoringPipeline.Create(s.Ml, s.Data.Schema, s.Onnx, "Features", ClassNames);
        var scored = chain.Transform(s.Data);
        uint[][] inProcess = scored.GetColumn<float[]>("Score").Select(r => r.Select(BitConverter.SingleToUInt32Bits).ToArray()).ToArray();
        uint[] inProcessKeys = scored.GetColumn<uint>("PredictedLabel").ToArray();

        string folder = Directory.CreateTempSubdirectory("cct-roundtrip-").FullName;
        try
        {
            string zip = Path.Combine(folder, "model.zip"), features = Path.Combine(folder, "features.bin"), result = Path.Combine(folder, "result.json");
            s.Ml.Model.Save(chain, s.Data.Schema, zip);
            File.WriteAllBytes(features, MemoryMarshal.AsBytes(s.Fixture.Input.AsSpan()).ToArray());

            RunScorer(zip, features, "Features", result);

            using var json = JsonDocument.Parse(File.ReadAllText(result));
            var root = json.RootElement;
            uint[][] fresh = root.GetProperty("ScoreBits").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetUInt32()).ToArray()).ToArray();
            Assert.Equal(inProcess, fresh);
            Assert.Equal(inProcessKeys, root.GetProperty("PredictedLabel").EnumerateArray().Select(v => v.GetUInt32()).ToArray());
            Assert.Equal(ClassNames, root.GetProperty("KeyValues").EnumerateArray().Select(v => v.GetString()).ToArray());
            Assert.Equal(ClassNames, root.GetProperty("SlotNames").EnumerateArray().Select(v => v.GetString()).ToArray());
            var assemblies = root.GetProperty("LoadedAssemblies").EnumerateArray().Select(v => v.GetString()!).ToArray();
            Assert.Contains("Microsoft.ML.OnnxTransformer", assemblies);
            Assert.DoesNotContain(assemblies, a => a.StartsWith("Microsoft.ML.CompactTransformer", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void MismatchedClassNamesAndColumnsAreRejected()
    {
        var s = Build();
        string[] reordered = ClassNames.Reverse().ToArray();
        var e1 = Assert.Throws<ArgumentException>(() => OnnxScoringPipeline.Create(s.Ml, s.Data.Schema, s.Onnx, "Features", reordered));
        Assert.Contains("slot names", e1.Message);

        var e2 = Assert.Throws<ArgumentException>(() => OnnxScoringPipeline.Create(s.Ml, s.Data.Schema, s.Onnx, "Features", ClassNames.Take(9).ToArray()));
        Assert.Contains("Vector<Single, 9>", e2.Message);

        var e3 = Assert.Throws<ArgumentException>(() => OnnxScoringPipeline.Create(s.Ml, s.Data.Schema, s.Onnx, "Pixels", ClassNames));
        Assert.Contains("'Pixels'", e3.Message);

        var e4 = Assert.Throws<ArgumentException>(() => OnnxScoringPipeline.Create(s.Ml, s.Data.Schema, s.Onnx, "Label", ClassNames));
        Assert.Contains("Vector<Single>", e4.Message);
    }

    private static string[] Strings(DataViewSchema.Column column, bool slotNames)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        if (slotNames) column.GetSlotNames(ref values);
        else column.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    private void RunScorer(params string[] args) => _output.WriteLine(FreshProcessScorer.Run(args));
}
