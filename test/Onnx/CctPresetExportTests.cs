using System.Diagnostics;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>Every preset (and each structural option) exports to a graph ONNX Runtime accepts and runs.</summary>
public class CctPresetExportTests
{
    private readonly ITestOutputHelper _output;

    public CctPresetExportTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Presets => new(CctPresets.Names);

    [Fact]
    public void ExpectedKeysMatchTheFixtureManifests()
    {
        foreach (string name in new[] { "cct_2_3x2_32", "cct_7_3x1_32", "cct_2_3x2_28_c1" })
        {
            var f = ReferenceFixture.Load(name);
            var expected = ExpectedStateDict.For(f.Architecture).Select(k => $"{k.Key}[{string.Join(",", k.Shape)}]").Order();
            var manifest = f.ManifestKeys.Select(k => $"{k.Key}[{string.Join(",", k.Shape)}]").Order();
            Assert.Equal(manifest, expected);
        }
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void PresetExportsAndRuns(string name)
    {
        var arch = CctPresets.Get(name);
        var clock = Stopwatch.StartNew();
        byte[] model = CctOnnxExporter.Export(arch, ExpectedStateDict.Random(arch, seed: 7), new ValueMixing(0.5, 0.5, AttentionScope.Both),
            new OnnxExportSettings { ClassNames = Enumerable.Range(0, arch.NumClasses).Select(i => $"c{i}").ToArray() });
        var image = RandomImage(arch, seed: 3);
        var outputs = OrtRunner.Run(model, "Features", image, image.Length);
        _output.WriteLine($"{name}: {model.Length / 1e6:F1} MB, export + session + one image {clock.ElapsedMilliseconds} ms");

        var score = (float[])outputs["Score"];
        Assert.Equal(arch.NumClasses, score.Length);
        Assert.All(score, p => Assert.True(p is >= 0 and <= 1 && float.IsFinite(p)));
        Assert.InRange(score.Sum(), 0.999f, 1.001f);
        Assert.Equal(Array.IndexOf(score, score.Max()), (int)((long[])outputs["PredictedIndex"])[0]);
    }

    public static TheoryData<PositionalEmbeddingKind, NormPlacement, PoolingKind, TokenizerKind> Variations
    {
        get
        {
            var data = new TheoryData<PositionalEmbeddingKind, NormPlacement, PoolingKind, TokenizerKind>();
            foreach (var pe in Enum.GetValues<PositionalEmbeddingKind>())
                foreach (var norm in Enum.GetValues<NormPlacement>())
                    foreach (var pool in Enum.GetValues<PoolingKind>())
                        foreach (var tok in Enum.GetValues<TokenizerKind>())
                            data.Add(pe, norm, pool, tok);
            return data;
        }
    }

    /// <summary>
    /// Every combination of the structural options, batch axis on: a batch of two images must give
    /// the same scores as the images one at a time (catches reshapes that mix up batch and tokens).
    /// </summary>
    [Theory]
    [MemberData(nameof(Variations))]
    public void StructuralOptionsExportAndBatchConsistently(PositionalEmbeddingKind pe, NormPlacement norm, PoolingKind pool, TokenizerKind tok)
    {
        var arch = new CctArchitecture
        {
            NumLayers = 2, NumHeads = 2, EmbeddingDim = 32, MlpRatio = 1.5, Tokenizer = tok, KernelSize = tok == TokenizerKind.Patch ? 4 : 3,
            NumConvLayers = 2, ConvHiddenChannels = 8, ImageHeight = 16, ImageWidth = 12, InputChannels = 3, NumClasses = 5,
            PositionalEmbedding = pe, Pooling = pool, NormPlacement = norm,
        };
        var weights = ExpectedStateDict.Random(arch, seed: 11);
        var mixing = new ValueMixing(0.6, 0.9, AttentionScope.Both);
        byte[] batched = CctOnnxExporter.Export(arch, weights, mixing, new OnnxExportSettings { BatchAxis = true });
        byte[] single = CctOnnxExporter.Export(arch, weights, mixing, new OnnxExportSettings());

        float[] a = RandomImage(arch, 1), b = RandomImage(arch, 2);
        var both = (float[])OrtRunner.Run(batched, "Features", a.Concat(b).ToArray(), 2, a.Length)["Score"];
        var one = ((float[])OrtRunner.Run(single, "Features", a, a.Length)["Score"])
            .Concat((float[])OrtRunner.Run(single, "Features", b, b.Length)["Score"]).ToArray();

        Assert.Equal(2 * arch.NumClasses, both.Length);
        for (int i = 0; i < both.Length; i++)
            Assert.True(Math.Abs(both[i] - one[i]) <= 1e-6, $"score {i}: batched {both[i]} vs single {one[i]}");
        // The two images must not score the same (the input reaches the output).
        Assert.NotEqual(both.Take(arch.NumClasses), both.Skip(arch.NumClasses));
    }

    private static float[] RandomImage(CctArchitecture arch, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, arch.InputChannels * arch.ImageHeight * arch.ImageWidth)
            .Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
    }
}
