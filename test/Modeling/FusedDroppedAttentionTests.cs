using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Tests.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>
/// The fused attention of a half-batch training step (Modeling/FusedDroppedAttention) against the same function spelled
/// out in libtorch operations, with the same dropout masks: values, gradients, odd token counts, the attention variants'
/// values, bad input. Some tests set the intra-op thread count, hence the collection that runs alone.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class FusedDroppedAttentionTests
{
    public FusedDroppedAttentionTests() => TorchRuntime.EnsureInitialized();

    [Theory]
    [InlineData(2, 64, 128, 2, false)] // cct_2's layer: 64 tokens, heads of 64
    [InlineData(3, 49, 64, 2, false)]  // 28 x 28 images: 49 tokens, not a multiple of 8
    [InlineData(2, 13, 32, 4, true)]   // heads of 8, few tokens, the values of a variant
    [InlineData(2, 64, 128, 2, true)]
    public void MatchesSoftmaxDropoutTimesValuesInLibtorchInValuesAndGradients(int batch, int tokens, int dim, int heads, bool ownValues)
    {
        const double p = 0.3;
        var seeds = Enumerable.Range(0, heads).Select(h => (ulong)(1000 + 17 * h)).ToArray();
        var generator = new Generator(42);
        using var projectedData = randn([batch, tokens, 3 * dim], generator: generator);
        using var valuesData = randn([batch, tokens, dim], generator: generator);
        using var upstream = randn([batch, tokens, dim], generator: generator);

        var projected = projectedData.clone().requires_grad_(true);
        var values = ownValues ? valuesData.clone().requires_grad_(true) : null;
        var fused = FusedDroppedAttention.Apply(projected, values, heads, p, seeds);
        fused.mul(upstream).sum().backward();

        var referenceProjected = projectedData.clone().requires_grad_(true);
        var referenceValues = ownValues ? valuesData.clone().requires_grad_(true) : null;
        var reference = Reference(referenceProjected, referenceValues, heads, p, seeds);
        reference.mul(upstream).sum().backward();

        AssertClose(reference, fused, "output");
        AssertClose(referenceProjected.grad!, projected.grad!, "projection gradient");
        if (ownValues)
        {
            AssertClose(referenceValues!.grad!, values!.grad!, "values gradient");
            // The projection's v block does not reach the output when the values are given: its gradient is zero.
            Assert.Equal(0f, projected.grad!.narrow(2, 2 * dim, dim).abs().max().item<float>());
        }
    }

    [Fact]
    public void WithNothingDroppedItIsPlainAttention()
    {
        var generator = new Generator(7);
        using var projected = randn([2, 24, 288], generator: generator);
        var output = FusedDroppedAttention.Apply(projected, null, 3, 0.0, [1, 2, 3]);
        var parts = projected.reshape(2, 24, 3, 3, 32).permute(2, 0, 3, 1, 4);
        using var expected = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]).transpose(1, 2).reshape(2, 24, 96);
        AssertClose(expected, output, "output");
    }

    [Fact]
    public void OnOneIntraOpThreadWithItsOwnGeneratorSelfAttentionRunsItWithTheSameMasks()
    {
        // A half-batch step: one intra-op thread, dropout drawn from the thread's generator. The layer's result with the
        // fused function must equal the head-by-head libtorch path's up to rounding, and not bit for bit (which would
        // mean the fused function did not run).
        var arch = CctPresets.Get("cct_2_3x2_32") with { AttentionDropout = 0.3, Dropout = 0 };
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            foreach (var mixing in new[] { new ValueMixing(), new ValueMixing(0.5, 1.0, AttentionScope.Both) })
            {
                manual_seed(8);
                using var attention = new SelfAttention(arch, mixing);
                attention.train();
                using var x = randn(3, arch.NumTokens, arch.EmbeddingDim);
                SelfAttention.FusedDroppedAttentionOnCpu = false;
                var (plainOut, plainGrad, plainWeightGrad) = Run(attention, x);
                SelfAttention.FusedDroppedAttentionOnCpu = true;
                var (fusedOut, fusedGrad, fusedWeightGrad) = Run(attention, x);
                Assert.False(fusedOut.eq(plainOut).all().item<bool>(), "bit-identical outputs: the fused function did not run");
                AssertClose(plainOut, fusedOut, $"output ({mixing})");
                AssertClose(plainGrad, fusedGrad, $"input gradient ({mixing})");
                AssertClose(plainWeightGrad, fusedWeightGrad, $"qkv weight gradient ({mixing})");
            }
        }
        finally
        {
            SelfAttention.FusedDroppedAttentionOnCpu = true;
            set_num_threads(threads);
        }
    }

    [Fact]
    public void BadInputIsRejectedWithWhatWasExpected()
    {
        using var projected = zeros(2, 8, 96);
        Assert.True(FusedDroppedAttention.Applies(projected, null, 2));
        Assert.False(FusedDroppedAttention.Applies(projected, null, 8), "heads of 4 dimensions");
        Assert.False(FusedDroppedAttention.Applies(projected.to_type(ScalarType.Float64), null, 2));
        Assert.False(FusedDroppedAttention.Applies(zeros(2, 8, 192).narrow(2, 0, 96), null, 2), "not contiguous");
        Assert.False(FusedDroppedAttention.Applies(projected, zeros(2, 8, 16), 2), "values of the wrong shape");
        var error = Assert.Throws<ArgumentException>(() => FusedDroppedAttention.Apply(projected, null, 8, 0.1, new ulong[8]));
        Assert.Contains("multiple of 8", error.Message);
        Assert.Contains("2x8x96", error.Message);
        Assert.Throws<ArgumentException>(() => FusedDroppedAttention.Apply(projected, null, 2, 0.1, new ulong[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FusedDroppedAttention.Apply(projected, null, 2, 1.0, new ulong[2]));
    }

    private static (Tensor Output, Tensor InputGradient, Tensor QkvWeightGradient) Run(SelfAttention attention, Tensor x)
    {
        attention.zero_grad();
        var generator = new Generator(99);
        var input = x.detach().requires_grad_(true);
        Tensor output;
        using (StepRandomness.Use(generator))
            output = attention.call(input);
        output.pow(2).sum().backward();
        var qkvWeight = attention.named_parameters().First(p => p.name == "qkv.weight").parameter;
        return (output.detach(), input.grad!.clone(), qkvWeight.grad!.clone());
    }

    // softmax(q k^T / sqrt(d)) * mask_h @ v per head, the masks those of DropoutMask for the heads' seeds.
    private static Tensor Reference(Tensor projected, Tensor? values, int heads, double p, ulong[] seeds)
    {
        long batch = projected.shape[0], tokens = projected.shape[1], dim = projected.shape[2] / 3, d = dim / heads;
        var outputs = new Tensor[heads];
        for (int h = 0; h < heads; h++)
        {
            var q = projected.narrow(2, h * d, d);
            var k = projected.narrow(2, dim + h * d, d);
            var v = (values ?? projected.narrow(2, 2 * dim, dim)).narrow(2, h * d, d);
            var mask = empty(batch, tokens, tokens);
            DropoutMask.Fill(mask, seeds[h], p);
            var weights = q.bmm(k.transpose(1, 2)).div(Math.Sqrt(d)).softmax(-1);
            outputs[h] = weights.mul(mask).bmm(v);
        }
        return cat(outputs, 2);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = Math.Max(1, expected.abs().max().item<float>());
        double error = (expected - actual).abs().max().item<float>();
        Assert.True(error < 2e-5 * scale, $"{what} differs by {error} (largest value {scale})");
    }
}
