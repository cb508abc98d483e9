using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>The tokenizer's fused max-pool and ReLU (Modeling/MaxPoolRelu) against libtorch's two operations.</summary>
public sealed class MaxPoolReluTests
{
    public MaxPoolReluTests() => TorchRuntime.EnsureInitialized();

    [Theory]
    [InlineData(2, 8, 8, 8)]
    [InlineData(3, 16, 7, 9)]   // odd sizes: the last window hangs over the edge
    [InlineData(1, 64, 32, 32)]
    public void GivesLibtorchsValuesAndGradientsIncludingTiesAndNegatives(long n, long c, long h, long w)
    {
        // A generator of its own: the global one belongs to the tests that run alone.
        using var generator = new Generator(4);
        // Quarters make ties within windows frequent, and half of the values are negative.
        using var values = (randn([n, c, h, w], generator: generator) * 2).mul(4).round().div(4);
        using var input = ChannelsLast(values);
        using var outputGradient = randn([n, c, (h - 1) / 2 + 1, (w - 1) / 2 + 1], generator: generator);

        using var ours = input.detach().requires_grad_(true);
        using var theirs = input.detach().requires_grad_(true);
        using var fused = MaxPoolRelu.apply(ours);
        using var reference = nn.functional.relu(nn.functional.max_pool2d(theirs, 3, 2, 1));
        fused.backward([outputGradient]);
        reference.backward([outputGradient]);

        Assert.Equal(reference.shape, fused.shape);
        Assert.True(fused.eq(reference).all().item<bool>(), "pooled values differ");
        // Each input's gradient is a sum of at most four; libtorch adds them in another order, hence the tolerance.
        Assert.True(ours.grad!.allclose(theirs.grad!, rtol: 1e-6, atol: 1e-6), "gradients differ");
        Assert.True(ours.grad!.ne(0).sum().item<long>() > 0, "no gradient reached the input");
    }

    [Fact]
    public void RefusesATensorThatIsNotChannelsLast()
    {
        using var contiguous = zeros(1, 8, 4, 4);
        Assert.False(MaxPoolRelu.Applies(contiguous));
        Assert.Throws<ArgumentException>(() => MaxPoolRelu.apply(contiguous));
        using var channelsLast = ChannelsLast(contiguous);
        Assert.True(MaxPoolRelu.Applies(channelsLast));
        using var sevenChannels = ChannelsLast(zeros(1, 7, 4, 4));
        Assert.False(MaxPoolRelu.Applies(sevenChannels));
    }

    private static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
