using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>The exported graph, run by ONNX Runtime, against the original PyTorch implementation's fixture logits.</summary>
public class CctOnnxExporterTests
{
    private static readonly OnnxExportSettings WithLogits = new() { LogitsOutputName = "logits" };
    private readonly ITestOutputHelper _output;

    public CctOnnxExporterTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Fixtures => new(ReferenceFixture.Names.ToArray());

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void LogitsMatchFixtureOneImagePerCall(string name)
    {
        var f = ReferenceFixture.Load(name);
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, WithLogits);

        using var session = OrtRunner.Session(model);
        double maxDiff = 0;
        for (int row = 0; row < f.BatchSize; row++)
        {
            var outputs = OrtRunner.Run(session, "Features", f.InputRow(row), f.ImageSize);
            var logits = (float[])outputs["logits"];
            maxDiff = Math.Max(maxDiff, Tolerance.AssertLogitsClose(f.LogitsRow(row), logits, $"{name} row {row} logits"));

            // Score is the softmax of the same logits; PredictedIndex its first arg-max.
            var score = (float[])outputs["Score"];
            float[] expectedScore = Tolerance.Softmax(f.LogitsRow(row));
            for (int k = 0; k < score.Length; k++)
                Assert.True(Math.Abs(score[k] - expectedScore[k]) <= 1e-6, $"{name} row {row} score[{k}]: {score[k]} vs {expectedScore[k]}");
            Assert.Equal(Array.IndexOf(score, score.Max()), (int)((long[])outputs["PredictedIndex"])[0]);
        }
        _output.WriteLine($"{name}: max |logit diff| = {maxDiff:E2}");
    }

    [Fact]
    public void BatchAxisRunsTheWholeFixtureBatchAtOnce()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_28_c1");
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, WithLogits with { BatchAxis = true });

        var outputs = OrtRunner.Run(model, "Features", f.Input, f.BatchSize, f.ImageSize);

        double maxDiff = Tolerance.AssertLogitsClose(f.Logits, (float[])outputs["logits"], "batched logits");
        Assert.Equal(f.BatchSize, ((long[])outputs["PredictedIndex"]).Length);
        _output.WriteLine($"batch of 4: max |logit diff| = {maxDiff:E2}");
    }

    [Fact]
    public void PixelScaleMeanAndStdAreFoldedIntoTheGraph()
    {
        // Feed raw "pixels" that the graph's (x * scale - mean) / std turns back into the fixture input.
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        float[] mean = { 0.4914f, 0.4822f, 0.4465f }, std = { 0.2470f, 0.2435f, 0.2616f };
        const float scale = 1f / 255f;
        var settings = WithLogits with { PixelScale = scale, Mean = mean, Std = std };
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, settings);

        int plane = f.Architecture.ImageHeight * f.Architecture.ImageWidth;
        float[] raw = f.InputRow(0).Select((v, i) => (v * std[i / plane] + mean[i / plane]) / scale).ToArray();
        var logits = (float[])OrtRunner.Run(model, "Features", raw, raw.Length)["logits"];

        // The round trip through 0-255 costs a few ulps of the input, so allow the looser "tokens" tolerance.
        float[] expected = f.LogitsRow(0);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(logits[k] - expected[k]) <= 1e-4 + 1e-4 * Math.Abs(expected[k]), $"logit {k}: {logits[k]} vs {expected[k]}");
    }

    [Fact]
    public void StandardMixingExportsTheSameGraphAsNoMixing()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        byte[] standard = CctOnnxExporter.Export(f.Architecture, f.StateDict, new ValueMixing(), WithLogits);
        byte[] alpha0Beta1 = CctOnnxExporter.Export(f.Architecture, f.StateDict, new ValueMixing(0, 1, AttentionScope.Both), WithLogits);
        byte[] scopeNone = CctOnnxExporter.Export(f.Architecture, f.StateDict, new ValueMixing(1, 0, AttentionScope.None), WithLogits);
        Assert.Equal(standard, alpha0Beta1);
        Assert.Equal(standard, scopeNone);
    }

    [Theory]
    [InlineData(AttentionScope.Pooling)]
    [InlineData(AttentionScope.SelfAttention)]
    public void RemixAlphaAndBetaReachTheGraph(AttentionScope scope)
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        float[] a03 = BatchLogits(f, new ValueMixing(0.3, 0.7, scope)), a07 = BatchLogits(f, new ValueMixing(0.7, 0.3, scope));
        double change = a03.Zip(a07, (x, y) => Math.Abs(x - y)).Max();
        _output.WriteLine($"{scope}: alpha 0.3 vs 0.7 changes logits by up to {change:E2}");
        // README: a wrong formula moves logits by >= 6e-3; anything above 1e-3 proves the weights are in the graph.
        Assert.True(change > 1e-3, $"alpha 0.3 and 0.7 gave logits within {change}");

        // The end points of the remix are the fixtures themselves.
        Tolerance.AssertLogitsClose(f.Logits, BatchLogits(f, new ValueMixing(0, 1, scope)), "alpha 0, beta 1");
        var variant = ReferenceFixture.Load(scope == AttentionScope.Pooling ? "cct_2_3x2_32_softmaxT_seqpool" : "cct_2_3x2_32_softmaxT_mhsa");
        Tolerance.AssertLogitsClose(variant.Logits, BatchLogits(f, new ValueMixing(1, 0, scope)), "alpha 1, beta 0");
    }

    [Theory]
    [InlineData(0.3, 0.7)]
    [InlineData(0.7, 0.3)]
    [InlineData(0.5, 1.0)]
    public void PoolingRemixIsTheAffineBlendOfTheTwoFixtures(double alpha, double beta)
    {
        // In the pooling the weights w do not depend on the values, and fc is affine, so
        // logits(alpha, beta) = beta * (L_plain - b) + alpha * (L_softmaxT - b) + b, from fixture logits alone.
        var plain = ReferenceFixture.Load("cct_2_3x2_32");
        var softmaxT = ReferenceFixture.Load("cct_2_3x2_32_softmaxT_seqpool");
        float[] bias = plain.StateDict["classifier.fc.bias"].Data;
        int k = bias.Length;
        float[] expected = plain.Logits.Select((lp, i) =>
            (float)(beta * (lp - bias[i % k]) + alpha * (softmaxT.Logits[i] - bias[i % k]) + bias[i % k])).ToArray();

        float[] actual = BatchLogits(plain, new ValueMixing(alpha, beta, AttentionScope.Pooling));

        double maxDiff = Tolerance.AssertLogitsClose(expected, actual, $"alpha {alpha}, beta {beta}");
        _output.WriteLine($"pooling remix alpha {alpha}, beta {beta}: max |diff| = {maxDiff:E2}");
    }

    private static float[] BatchLogits(ReferenceFixture f, ValueMixing mixing) => (float[])OrtRunner.Run(
        CctOnnxExporter.Export(f.Architecture, f.StateDict, mixing, WithLogits with { BatchAxis = true }),
        "Features", f.Input, f.BatchSize, f.ImageSize)["logits"];

    [Fact]
    public void SineEmbeddingIsRegeneratedWhenLeftOutOfTheStateDict()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        var arch = f.Architecture with { PositionalEmbedding = PositionalEmbeddingKind.Sine };
        var withSine = new Dictionary<string, NamedTensorData>(f.StateDict)
        {
            ["classifier.positional_emb"] = new(ExpectedSine(64, 128), 1, 64, 128),
        };
        var withoutSine = new Dictionary<string, NamedTensorData>(f.StateDict);
        withoutSine.Remove("classifier.positional_emb");

        float[] Run(Dictionary<string, NamedTensorData> sd) =>
            (float[])OrtRunner.Run(CctOnnxExporter.Export(arch, sd, new ValueMixing(), WithLogits), "Features", f.InputRow(0), f.ImageSize)["logits"];
        Assert.Equal(Run(withSine), Run(withoutSine));
    }

    // The REFERENCE.md formula, written independently of the exporter's helper.
    private static float[] ExpectedSine(int n, int d)
    {
        var pe = new float[n * d];
        for (int p = 0; p < n; p++)
            for (int i = 0; i < d; i++)
            {
                double angle = p / Math.Pow(10000, 2.0 * (i / 2) / d);
                pe[p * d + i] = i % 2 == 0 ? MathF.Sin((float)angle) : MathF.Cos((float)angle);
            }
        return pe;
    }

    [Fact]
    public void MissingWrongShapedAndUnusedEntriesAreNamed()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        var arch = f.Architecture;

        var missing = new Dictionary<string, NamedTensorData>(f.StateDict);
        missing.Remove("classifier.blocks.1.linear2.bias");
        var e1 = Assert.Throws<ArgumentException>(() => CctOnnxExporter.Export(arch, missing, new ValueMixing(), new OnnxExportSettings()));
        Assert.Contains("classifier.blocks.1.linear2.bias", e1.Message);

        var wrong = new Dictionary<string, NamedTensorData>(f.StateDict) { ["classifier.fc.bias"] = new(new float[11], 11) };
        var e2 = Assert.Throws<ArgumentException>(() => CctOnnxExporter.Export(arch, wrong, new ValueMixing(), new OnnxExportSettings()));
        Assert.Contains("classifier.fc.bias", e2.Message);
        Assert.Contains("[10]", e2.Message);

        // One layer fewer than the weights have: the leftover block must not be silently dropped.
        var e3 = Assert.Throws<ArgumentException>(() =>
            CctOnnxExporter.Export(arch with { NumLayers = 1 }, f.StateDict, new ValueMixing(), new OnnxExportSettings()));
        Assert.Contains("classifier.blocks.1.", e3.Message);
    }

    [Fact]
    public void BadSettingsAreRejectedWithTheFieldName()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        void Export(OnnxExportSettings s) => CctOnnxExporter.Export(f.Architecture, f.StateDict, new ValueMixing(), s);

        Assert.Contains("Std[1]", Assert.Throws<ArgumentException>(() => Export(new() { Std = new[] { 1f, 0f, 1f } })).Message);
        Assert.Contains("Mean", Assert.Throws<ArgumentException>(() => Export(new() { Mean = new[] { 0f } })).Message);
        Assert.Contains("ClassNames", Assert.Throws<ArgumentException>(() => Export(new() { ClassNames = new[] { "a", "b" } })).Message);
        Assert.Contains("Opset", Assert.Throws<ArgumentException>(() => Export(new() { Opset = 13 })).Message);
        Assert.Contains("'Score'", Assert.Throws<ArgumentException>(() => Export(new() { LogitsOutputName = "Score" })).Message);
        Assert.Contains("Alpha", Assert.Throws<ArgumentException>(() =>
            CctOnnxExporter.Export(f.Architecture, f.StateDict, new ValueMixing(double.NaN, 1, AttentionScope.Both), new())).Message);
    }
}
