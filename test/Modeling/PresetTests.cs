using Microsoft.ML.CompactTransformer.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

public class PresetTests
{
    private static long CountParameters(CctNetwork network) => network.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    // Published counts (REFERENCE.md section 2, and the fixture README for the 28x28 grayscale twin).
    [Theory]
    [InlineData("cct_2_3x2_32", 283_723)]
    [InlineData("cct_4_3x2_32", 482_123)]
    [InlineData("cct_7_3x2_32", 3_853_259)]
    [InlineData("cct_7_3x1_32", 3_760_139)]
    [InlineData("cct_14_7x2_224", 22_367_273)]
    [InlineData("cvt_7_4_32", 3_716_619)]
    public void ParameterCountEqualsThePublishedOne(string name, long expected)
    {
        using var network = new CctNetwork(CctPresets.Get(name));
        Assert.Equal(expected, CountParameters(network));
    }

    // Worked out by hand from the layer shapes (per image, float elements):
    // cct_2_3x2_32: first conv 64 x 32 x 32 = 65,536 (second conv 128 x 16 x 16, attention 2 x 64 x 64, qkv 64 x 384);
    // cct_7_3x1_32: conv 256 x 32 x 32 = 262,144 = attention 4 x 256 x 256 (qkv 256 x 768, MLP 256 x 512);
    // vit_7_4_32: qkv 65 x 768 = 49,920 with the class token (attention 4 x 65 x 65, MLP 65 x 512, patches 256 x 8 x 8).
    [Theory]
    [InlineData("cct_2_3x2_32", 65_536)]
    [InlineData("cct_7_3x1_32", 262_144)]
    [InlineData("vit_7_4_32", 49_920)]
    public void LargestActivationIsTheBiggestLayerOutputPerImage(string name, long expected) =>
        Assert.Equal(expected, CctPresets.Get(name).LargestActivationElements);

    [Fact]
    public void FashionMnistShapedTwinHasThePublishedCount()
    {
        var arch = CctPresets.Get("cct_2_3x2_32") with { ImageHeight = 28, ImageWidth = 28, InputChannels = 1 };
        using var network = new CctNetwork(arch);
        Assert.Equal(280_651, CountParameters(network));
        Assert.Equal(49, arch.NumTokens);
    }

    [Fact]
    public void TableHoldsEveryRegisteredNameOfTheOriginal()
    {
        var expected = new List<string> { "cct_7_3x1_32_c100", "cct_7_3x1_32_sine_c100", "cct_7_7x2_224_sine", "cct_14_7x2_224", "cct_14_7x2_384", "cct_14_7x2_384_fl" };
        foreach (var size in new[] { "2_3x2", "4_3x2", "6_3x1", "6_3x2", "7_3x1", "7_3x2" })
            expected.AddRange(new[] { $"cct_{size}_32", $"cct_{size}_32_sine" });
        foreach (var family in new[] { "cvt", "vit" })
            foreach (var size in new[] { 2, 4, 6, 7 })
                expected.AddRange(new[] { $"{family}_{size}_4_32", $"{family}_{size}_4_32_sine" });
        Assert.Equal(expected.OrderBy(n => n), CctPresets.Names.OrderBy(n => n));
    }

    [Theory]
    [InlineData("cct_7_3x1_32", 256, 7, 4, 256, 10)]
    [InlineData("cct_2_3x2_32", 64, 2, 2, 128, 10)]
    [InlineData("cct_14_7x2_224", 196, 14, 6, 384, 1000)]
    [InlineData("cct_14_7x2_384", 576, 14, 6, 384, 1000)]
    [InlineData("cct_14_7x2_384_fl", 576, 14, 6, 384, 102)]
    [InlineData("cct_7_7x2_224_sine", 196, 7, 4, 256, 102)]
    [InlineData("cct_7_3x1_32_c100", 256, 7, 4, 256, 100)]
    [InlineData("cvt_6_4_32", 64, 6, 4, 256, 10)]
    [InlineData("vit_4_4_32_sine", 64, 4, 2, 128, 10)]
    public void PresetHasTheOriginalsShape(string name, int tokens, int layers, int heads, int dim, int classes)
    {
        var arch = CctPresets.Get(name);
        Assert.Equal((tokens, layers, heads, dim, classes), (arch.NumTokens, arch.NumLayers, arch.NumHeads, arch.EmbeddingDim, arch.NumClasses));
    }

    [Fact]
    public void EverySmallPresetRunsForwardAndBackward()
    {
        foreach (var name in CctPresets.Names.Where(n => CctPresets.Get(n).ImageHeight == 32))
        {
            var arch = CctPresets.Get(name);
            using var network = new CctNetwork(arch);
            using var input = randn(2, arch.InputChannels, arch.ImageHeight, arch.ImageWidth);
            using var logits = network.call(input);
            Assert.Equal(new long[] { 2, arch.NumClasses }, logits.shape);
            using var loss = logits.square().mean();
            loss.backward();
            Assert.All(network.parameters().Where(p => p.requires_grad), p => Assert.True(p.grad is not null, $"{name}: a parameter got no gradient"));
        }
    }

    [Fact]
    public void ViTLiteHasAClassTokenAndNoAttentionPool()
    {
        using var network = new CctNetwork(CctPresets.Get("vit_2_4_32"));
        var state = network.state_dict();
        Assert.Equal(new long[] { 1, 1, 128 }, state["classifier.class_emb"].shape);
        Assert.Equal(new long[] { 1, 65, 128 }, state["classifier.positional_emb"].shape);
        Assert.DoesNotContain("classifier.attention_pool.weight", state.Keys);
        Assert.Equal(0f, state["classifier.class_emb"].abs().sum().item<float>());
    }

    [Fact]
    public void UnknownPresetNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => CctPresets.Get("cct_3_3x2_32"));
        Assert.Contains("cct_3_3x2_32", e.Message);
        Assert.Contains("cct_7_3x1_32", e.Message);
    }

    [Fact]
    public void FreeFormArchitectureBuilds()
    {
        var arch = new CctArchitecture { NumLayers = 3, NumHeads = 3, EmbeddingDim = 96, MlpRatio = 1.5, KernelSize = 5, NumConvLayers = 2, ImageHeight = 40, ImageWidth = 24, InputChannels = 2, NumClasses = 7 };
        using var network = new CctNetwork(arch);
        using var logits = network.call(randn(3, 2, 40, 24));
        Assert.Equal(new long[] { 3, 7 }, logits.shape);
        Assert.Equal(new long[] { 1, arch.NumTokens, 96 }, network.state_dict()["classifier.positional_emb"].shape);
        Assert.Equal(new long[] { 144, 96 }, network.state_dict()["classifier.blocks.0.linear1.weight"].shape);
    }

    [Fact]
    public void InvalidArchitectureNamesTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new CctNetwork(new CctArchitecture { EmbeddingDim = 100, NumHeads = 3 }));
        Assert.Contains("EmbeddingDim", e.Message);
        Assert.Contains("100", e.Message);
    }
}
