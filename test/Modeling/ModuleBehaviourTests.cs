using Microsoft.ML.CompactTransformer.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

public class ModuleBehaviourTests
{
    [Fact]
    public void SineEmbeddingFollowsTheFormulaAndIsNotTrained()
    {
        var arch = CctPresets.Get("cct_2_3x2_32_sine");
        using var network = new CctNetwork(arch);
        var pe = network.state_dict()["classifier.positional_emb"];
        Assert.False(network.named_parameters().Single(p => p.name == "classifier.positional_emb").parameter.requires_grad);
        var values = pe.data<float>().ToArray();
        int d = arch.EmbeddingDim;
        for (int p = 0; p < arch.NumTokens; p += 7)
            for (int i = 0; i < d; i += 5)
            {
                double angle = p / Math.Pow(10000, 2.0 * (i / 2) / d);
                double expected = i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
                Assert.True(Math.Abs(values[p * d + i] - expected) < 1e-5, $"pe[{p},{i}] = {values[p * d + i]}, expected {expected}");
            }
    }

    [Fact]
    public void LearnableEmbeddingHasTheOriginalSpread()
    {
        using var network = new CctNetwork(CctPresets.Get("cct_7_3x1_32"));
        var pe = network.state_dict()["classifier.positional_emb"];
        double std = pe.std().item<float>();
        Assert.InRange(std, 0.19, 0.21);
        var fc = network.state_dict()["classifier.fc.weight"];
        Assert.InRange(fc.std().item<float>(), 0.015, 0.025);
        Assert.Equal(0f, network.state_dict()["classifier.fc.bias"].abs().sum().item<float>());
        // kaiming_normal_ (fan_in, gain sqrt(2)): std sqrt(2 / (3 * 3 * 3)).
        var conv = network.state_dict()["tokenizer.conv_layers.0.0.weight"];
        Assert.InRange(conv.std().item<float>(), 0.75 * Math.Sqrt(2.0 / 27), 1.25 * Math.Sqrt(2.0 / 27));
    }

    [Fact]
    public void TruncatedNormalRespectsItsBounds()
    {
        using var t = TruncatedNormal.Fill(empty(20000), std: 1.0, mean: 0.5, a: -0.5, b: 1.0);
        Assert.True(t.min().item<float>() >= -0.5f && t.max().item<float>() <= 1.0f);
        // Truncation to [-1, +0.5] sigma around the mean pulls the sample mean below it.
        Assert.InRange(t.mean().item<float>(), 0.5 - 0.35, 0.5 - 0.15);
    }

    [Fact]
    public void DropPathDropsWholeSamplesOnlyWhileTraining()
    {
        using var dropPath = new DropPath(0.5);
        using var x = ones(4000, 3, 2);
        dropPath.train();
        using var y = dropPath.call(x);
        var perSample = y.sum(new long[] { 1, 2 }).data<float>().ToArray();
        Assert.All(perSample, s => Assert.True(s == 0 || Math.Abs(s - 12) < 1e-5, $"sample sum {s}: not all-dropped nor all-kept x2"));
        double keptFraction = perSample.Count(s => s > 0) / (double)perSample.Length;
        Assert.InRange(keptFraction, 0.45, 0.55);
        dropPath.eval();
        using var z = dropPath.call(x);
        Assert.True(z.allclose(x, rtol: 0, atol: 0));
    }

    [Fact]
    public void StochasticDepthRatesAreLinearFromZero()
    {
        var arch = CctPresets.Get("cct_7_3x1_32") with { StochasticDepth = 0.3 };
        using var network = new CctNetwork(arch);
        var rates = network.modules().OfType<DropPath>().Select(m => m.Probability).ToArray();
        Assert.Equal(7, rates.Length);
        for (int i = 0; i < 7; i++)
            Assert.Equal(0.3 * i / 6, rates[i], 12);
    }

    [Fact]
    public void PreNormPlacementNormalisesOnlyTheMlpInput()
    {
        // One layer, checked against the two formulas written out with functional ops on its own weights.
        var arch = new CctArchitecture { NumLayers = 1, NumHeads = 2, EmbeddingDim = 8, MlpRatio = 2, AttentionDropout = 0, StochasticDepth = 0 };
        foreach (var placement in new[] { NormPlacement.Original, NormPlacement.PreNorm })
        {
            using var layer = new TransformerEncoderLayer(arch with { NormPlacement = placement }, new ValueMixing(), 0);
            layer.eval();
            var w = layer.state_dict();
            using var x = randn(2, 5, 8);
            using var _ = no_grad();
            Tensor Norm(Tensor t, string n) => nn.functional.layer_norm(t, new long[] { 8 }, w[n + ".weight"], w[n + ".bias"]);
            Tensor Mlp(Tensor t) => nn.functional.linear(nn.functional.gelu(nn.functional.linear(t, w["linear1.weight"], w["linear1.bias"])), w["linear2.weight"], w["linear2.bias"]);
            var h = Norm(x, "pre_norm");
            var qkv = nn.functional.linear(h, w["self_attn.qkv.weight"]).reshape(2, 5, 3, 2, 4).permute(2, 0, 3, 1, 4);
            var attn = (qkv[0].matmul(qkv[1].transpose(-2, -1)) / Math.Sqrt(4)).softmax(-1).matmul(qkv[2]).transpose(1, 2).reshape(2, 5, 8);
            var afterAttention = x + nn.functional.linear(attn, w["self_attn.proj.weight"], w["self_attn.proj.bias"]);
            var expected = placement == NormPlacement.Original
                ? Norm(afterAttention, "norm1") + Mlp(Norm(afterAttention, "norm1"))
                : afterAttention + Mlp(Norm(afterAttention, "norm1"));
            using var actual = layer.call(x);
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"{placement}: layer output differs from its formula");
        }
    }

    [Fact]
    public void LearnableEmbeddingResizesBilinearly()
    {
        // A ramp along the width stays a ramp under bilinear resampling; a class token is left alone.
        var ramp = arange(4, dtype: ScalarType.Float32).reshape(1, 1, 4, 1).expand(1, 4, 4, 2).reshape(1, 16, 2);
        using var withClass = cat(new[] { full(1, 1, 2, 42f), ramp }, 1);
        using var resized = PositionalEmbeddingResizer.Resize(withClass, (4, 4), (2, 8), prefixTokens: 1);
        Assert.Equal(new long[] { 1, 17, 2 }, resized.shape);
        Assert.Equal(42f, resized[0, 0, 0].item<float>());
        var row = resized[0, 1..9, 0].data<float>().ToArray();
        // Output column j samples input x = (j + 0.5) * 4/8 - 0.5, clamped to [0, 3].
        var expected = Enumerable.Range(0, 8).Select(j => Math.Clamp((j + 0.5) * 0.5 - 0.5, 0, 3)).ToArray();
        for (int j = 0; j < 8; j++)
            Assert.Equal(expected[j], row[j], 5);
        using var same = PositionalEmbeddingResizer.Resize(withClass, (4, 4), (4, 4), prefixTokens: 1);
        Assert.True(same.allclose(withClass));
    }
}
