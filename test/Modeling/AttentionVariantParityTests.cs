using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Tests.Support;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>The value-mixing variants against the softmax^T fixtures of the original.</summary>
public class AttentionVariantParityTests
{
    [Theory]
    [InlineData("cct_2_3x2_32_softmaxT_seqpool", AttentionScope.Pooling)]
    [InlineData("cct_2_3x2_32_softmaxT_mhsa", AttentionScope.SelfAttention)]
    public void ModelBuiltWithTheFixturesAlphaBetaAndScopeReproducesIt(string name, AttentionScope scope)
    {
        var fixture = ReferenceFixture.Load(name);
        var mixing = fixture.Mixing;
        Assert.Equal((1.0, 0.0, scope), (mixing.Alpha, mixing.Beta, mixing.Scope));
        using var network = fixture.BuildNetwork();
        using var input = fixture.Array("input");
        using var expected = fixture.Array("logits");
        using var _ = no_grad();
        using var logits = network.call(input);
        TensorAssert.Close(expected, logits, absolute: 1e-6, relative: 1e-4, what: name);
    }

    [Theory]
    [InlineData("cct_2_3x2_32_softmaxT_seqpool")]
    [InlineData("cct_2_3x2_32_softmaxT_mhsa")]
    public void AlphaAndBetaAreReadAtEveryForwardPass(string name)
    {
        // One network, the variant switched between calls the way a training loop schedules it.
        var fixture = ReferenceFixture.Load(name);
        using var network = fixture.BuildNetwork();
        using var input = fixture.Array("input");
        using var variantLogits = fixture.Array("logits");
        using var standardLogits = ReferenceFixture.Load("cct_2_3x2_32").Array("logits");
        using var _ = no_grad();

        network.Mixing.Alpha = 0;
        network.Mixing.Beta = 1;
        using (var logits = network.call(input))
            TensorAssert.Close(standardLogits, logits, absolute: 1e-5, what: "alpha 0, beta 1 = standard");

        network.Mixing.Alpha = 0.5;
        network.Mixing.Beta = 0.5;
        using (var logits = network.call(input))
        {
            Assert.True(TensorAssert.MaxAbsDiff(standardLogits, logits) > 1e-4, "remix 0.5 should move away from standard");
            Assert.True(TensorAssert.MaxAbsDiff(variantLogits, logits) > 1e-4, "remix 0.5 should differ from pure softmax");
        }

        network.Mixing.Alpha = 1;
        network.Mixing.Beta = 0;
        using (var logits = network.call(input))
            TensorAssert.Close(variantLogits, logits, absolute: 1e-6, relative: 1e-4, what: "alpha 1, beta 0");
    }

    [Fact]
    public void OutOfScopeVariantLeavesTheNetworkStandard()
    {
        var fixture = ReferenceFixture.Load("cct_2_3x2_32");
        using var network = fixture.BuildNetwork();
        network.Mixing.Alpha = 1;
        network.Mixing.Beta = 0;
        network.Mixing.Scope = AttentionScope.None;
        using var input = fixture.Array("input");
        using var expected = fixture.Array("logits");
        using var _ = no_grad();
        using var logits = network.call(input);
        TensorAssert.Close(expected, logits, absolute: 1e-5, what: "scope None");
    }

    [Fact]
    public void BothScopesComposeTheTwoVariants()
    {
        // With both scopes the encoder matches the mhsa fixture's encoded sequence, and the pooling
        // then applies softmax over tokens to it: pooled = w^T softmax(encoded).
        var fixture = ReferenceFixture.Load("cct_2_3x2_32_softmaxT_mhsa");
        using var network = fixture.BuildNetwork();
        network.Mixing.Scope = AttentionScope.Both;
        using var input = fixture.Array("input");
        using var expectedEncoded = fixture.Array("encoded");
        using var _ = no_grad();
        using var outputs = network.ForwardWithIntermediates(input);
        TensorAssert.Close(expectedEncoded, outputs.Encoded, absolute: 1e-5, what: "encoded");
        var weights = network.state_dict();
        using var w = nn.functional.linear(expectedEncoded, weights["classifier.attention_pool.weight"], weights["classifier.attention_pool.bias"]).softmax(1);
        using var pooled = w.transpose(-1, -2).matmul(expectedEncoded.softmax(1)).squeeze(-2);
        TensorAssert.Close(pooled, outputs.Pooled, absolute: 1e-7, relative: 1e-4, what: "pooled");
    }

    [Fact]
    public void SubtractiveVariantWeightsBothTerms()
    {
        // beta 1, alpha -1 in pooling: pooled = w^T (x - softmax(x)), checked against the fixtures' own encoded output.
        var fixture = ReferenceFixture.Load("cct_2_3x2_32");
        using var network = fixture.BuildNetwork();
        network.Mixing.Alpha = -1;
        network.Mixing.Beta = 1;
        network.Mixing.Scope = AttentionScope.Pooling;
        using var input = fixture.Array("input");
        using var encoded = fixture.Array("encoded");
        using var _ = no_grad();
        using var outputs = network.ForwardWithIntermediates(input);
        var weights = network.state_dict();
        using var w = nn.functional.linear(encoded, weights["classifier.attention_pool.weight"], weights["classifier.attention_pool.bias"]).softmax(1);
        using var pooled = w.transpose(-1, -2).matmul(encoded - encoded.softmax(1)).squeeze(-2);
        TensorAssert.Close(pooled, outputs.Pooled, absolute: 1e-5, what: "pooled");
    }
}
