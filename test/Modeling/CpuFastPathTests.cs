using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Tests.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>
/// The CPU training fast paths compute the same function as the plain ones: channels-last tokenizer convolutions
/// (with oneDNN) against the NCHW module blocks, and the spelled-out dropout attention against the fused one.
/// They switch process-wide settings, hence the collection that runs alone.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public class CpuFastPathTests
{
    [Fact]
    public void ChannelsLastTokenizerMatchesTheNchwBlocksInValuesAndGradients()
    {
        var arch = CctPresets.Get("cct_2_3x2_32");
        bool oneDnn = TorchRuntime.OneDnnConvolutions;
        TorchRuntime.OneDnnConvolutions = true; // the fast path only runs with oneDNN, the training default
        try
        {
            manual_seed(3);
            using var tokenizer = new Tokenizer(arch);
            using var images = randn(6, 3, 32, 32);
            var (plainTokens, plainGrads) = TokensAndGradients(tokenizer, images, channelsLast: false);
            var (fastTokens, fastGrads) = TokensAndGradients(tokenizer, images, channelsLast: true);
            Assert.Equal(plainTokens.shape, fastTokens.shape);
            Assert.True(fastTokens.is_contiguous());
            double tokenError = (fastTokens - plainTokens).abs().max().item<float>();
            Assert.True(tokenError < 1e-4, $"tokens differ by {tokenError}");
            for (int i = 0; i < plainGrads.Length; i++)
            {
                double relative = ((fastGrads[i] - plainGrads[i]).norm() / plainGrads[i].norm()).item<float>();
                Assert.True(relative < 1e-4, $"conv {i} weight gradient differs by {relative} (relative)");
            }
        }
        finally
        {
            Tokenizer.ChannelsLastOnCpu = true;
            TorchRuntime.OneDnnConvolutions = oneDnn;
        }
    }

    [Fact]
    public void OnOneIntraOpThreadTheFusedPoolingGivesTheSameTokensAndGradients() =>
        // A half-batch step runs on one intra-op thread, where the channels-last tokenizer pools with MaxPoolRelu.
        AssertTheSameFunctionOnOneThread(on => Tokenizer.FusedPoolingOnCpu = on, seed: 6);

    [Fact]
    public void OnOneIntraOpThreadTheOwnWeightGradientGivesTheSameTokensAndGradients() =>
        // There the second convolution's weight gradient comes from ConvolutionWeightGradient.
        AssertTheSameFunctionOnOneThread(on => Tokenizer.OwnWeightGradientOnCpu = on, seed: 7);

    // The cct_2 tokenizer's tokens and weight gradients on one intra-op thread with a fast path switched off, then on:
    // the same tokens bit for bit, the same gradients to 1e-5 of their norm.
    private static void AssertTheSameFunctionOnOneThread(Action<bool> use, int seed)
    {
        var arch = CctPresets.Get("cct_2_3x2_32");
        bool oneDnn = TorchRuntime.OneDnnConvolutions;
        int threads = get_num_threads();
        TorchRuntime.OneDnnConvolutions = true;
        set_num_threads(1);
        try
        {
            manual_seed(seed);
            using var tokenizer = new Tokenizer(arch);
            using var images = randn(4, 3, 32, 32);
            use(false);
            var (plainTokens, plainGrads) = TokensAndGradients(tokenizer, images, channelsLast: true);
            use(true);
            var (fastTokens, fastGrads) = TokensAndGradients(tokenizer, images, channelsLast: true);
            Assert.True(fastTokens.eq(plainTokens).all().item<bool>(), "tokens differ");
            for (int i = 0; i < plainGrads.Length; i++)
            {
                double relative = ((fastGrads[i] - plainGrads[i]).norm() / plainGrads[i].norm()).item<float>();
                Assert.True(relative < 1e-5, $"conv {i} weight gradient differs by {relative} (relative)");
            }
        }
        finally
        {
            use(true);
            Tokenizer.ChannelsLastOnCpu = true;
            set_num_threads(threads);
            TorchRuntime.OneDnnConvolutions = oneDnn;
        }
    }

    private static (Tensor Tokens, Tensor[] Gradients) TokensAndGradients(Tokenizer tokenizer, Tensor images, bool channelsLast)
    {
        Tokenizer.ChannelsLastOnCpu = channelsLast;
        tokenizer.zero_grad();
        var tokens = tokenizer.call(images);
        // A fixed, non-uniform upstream gradient, so every position and channel matters.
        using var weights = arange(tokens.numel(), dtype: ScalarType.Float32).reshape(tokens.shape).sin();
        tokens.mul(weights).sum().backward();
        var gradients = tokenizer.parameters().Select(p => p.grad!.clone()).ToArray();
        return (tokens.detach(), gradients);
    }

    [Theory]
    [InlineData(0.0, 1.0)] // standard attention
    [InlineData(1.0, 0.0)] // softmax over tokens of V
    [InlineData(0.5, 1.0)] // a mix
    public void DropoutAttentionPathIsTheFusedAttentionWhenNothingIsDropped(double alpha, double beta)
    {
        // A rate so small that no weight is dropped and the 1/(1-p) scale is 1 in float: the spelled-out training path
        // (head by head on column blocks, V mixed over its token axis there) must then agree with the fused evaluation
        // path (head-major), forward and backward.
        var arch = CctPresets.Get("cct_2_3x2_32") with { AttentionDropout = 1e-12, Dropout = 0 };
        manual_seed(5);
        using var attention = new SelfAttention(arch, new ValueMixing(alpha, beta, AttentionScope.Both));
        using var x = randn(3, arch.NumTokens, arch.EmbeddingDim);
        attention.train();
        var (trainOut, trainGrad) = OutputAndInputGradient(attention, x);
        attention.eval();
        var (evalOut, evalGrad) = OutputAndInputGradient(attention, x);
        double outError = (trainOut - evalOut).abs().max().item<float>();
        double gradError = (trainGrad - evalGrad).abs().max().item<float>();
        Assert.True(outError < 1e-5, $"outputs differ by {outError}");
        Assert.True(gradError < 1e-5, $"input gradients differ by {gradError}");

        // And with a real rate the training path does drop: its output leaves the evaluation one.
        var dropping = arch with { AttentionDropout = 0.5 };
        manual_seed(5);
        using var dropped = new SelfAttention(dropping, new ValueMixing(alpha, beta, AttentionScope.Both));
        dropped.train();
        var (droppedOut, _) = OutputAndInputGradient(dropped, x);
        Assert.True((droppedOut - evalOut).abs().max().item<float>() > 1e-3);
    }

    private static (Tensor Output, Tensor InputGradient) OutputAndInputGradient(SelfAttention attention, Tensor x)
    {
        var input = x.detach().requires_grad_(true);
        var output = attention.call(input);
        output.pow(2).sum().backward();
        return (output.detach(), input.grad!.clone());
    }
}
