using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>The convolution weight gradient computed outside oneDNN (Modeling/ConvolutionWeightGradient) against libtorch's.</summary>
public sealed class ConvolutionWeightGradientTests
{
    public ConvolutionWeightGradientTests() => TorchRuntime.EnsureInitialized();

    [Theory]
    [InlineData(2, 16, 7, 9, 8, 3, 1)]  // cct's 3x3 "same" convolution, odd sizes
    [InlineData(3, 32, 8, 8, 4, 5, 2)]  // a 5x5 kernel
    [InlineData(2, 16, 6, 5, 12, 3, 0)] // no padding: the output shrinks
    [InlineData(1, 16, 4, 4, 4, 3, 2)]  // padding past the kernel's reach: the output grows
    public void GivesLibtorchsWeightGradientAndPassesTheRestThrough(int batch, int inChannels, int height, int width, int outChannels, int kernel, int padding)
    {
        var generator = new Generator((ulong)(batch * 100 + inChannels + kernel * 7 + padding));
        using var inputData = ChannelsLast(randn([batch, inChannels, height, width], generator: generator));
        using var weightData = randn([outChannels, inChannels, kernel, kernel], generator: generator);
        long outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
        using var upstream = randn([batch, outChannels, outHeight, outWidth], generator: generator);

        var plainInput = inputData.clone().requires_grad_(true);
        var plainWeight = weightData.clone().requires_grad_(true);
        var plain = nn.functional.conv2d(plainInput, plainWeight, padding: [padding, padding]);
        plain.mul(upstream).sum().backward();

        var input = inputData.clone().requires_grad_(true);
        var weight = weightData.clone().requires_grad_(true);
        Assert.True(ConvolutionWeightGradient.Applies(input, weight, [1, 1], [padding, padding]));
        var output = ConvolutionWeightGradient.Apply(nn.functional.conv2d(input, weight.detach(), padding: [padding, padding]), input, weight, padding);
        output.mul(upstream).sum().backward();

        Assert.True(output.eq(plain).all().item<bool>(), "the output is not passed through unchanged");
        double relative = ((weight.grad! - plainWeight.grad!).norm() / plainWeight.grad!.norm()).item<float>();
        Assert.True(relative < 1e-5, $"weight gradient differs by {relative} (relative)");
        Assert.True(input.grad!.allclose(plainInput.grad!, rtol: 1e-5, atol: 1e-5), "the input gradient changed");
    }

    [Fact]
    public void ConvolutionsItCannotTakeAreLeftToOneDnnAndBadInputIsNamed()
    {
        using var input = ChannelsLast(zeros(2, 16, 6, 6));
        using var weight = zeros(8, 16, 3, 3);
        Assert.True(ConvolutionWeightGradient.Applies(input, weight, [1, 1], [1, 1]));
        Assert.False(ConvolutionWeightGradient.Applies(input, weight, [2, 2], [1, 1]), "stride 2");
        Assert.False(ConvolutionWeightGradient.Applies(zeros(2, 16, 6, 6), weight, [1, 1], [1, 1]), "NCHW memory");
        Assert.False(ConvolutionWeightGradient.Applies(ChannelsLast(zeros(2, 3, 6, 6)), zeros(8, 3, 3, 3), [1, 1], [1, 1]), "3 input channels");
        Assert.False(ConvolutionWeightGradient.Applies(input, zeros(6, 16, 3, 3), [1, 1], [1, 1]), "6 output channels");
        Assert.False(ConvolutionWeightGradient.Applies(input.to_type(ScalarType.Float64), weight.to_type(ScalarType.Float64), [1, 1], [1, 1]));
        var error = Assert.Throws<ArgumentException>(() => ConvolutionWeightGradient.Apply(zeros(2, 8, 6, 6), zeros(2, 16, 6, 6), weight, 1));
        Assert.Contains("2x16x6x6", error.Message);
        var shape = Assert.Throws<ArgumentException>(() => ConvolutionWeightGradient.Apply(zeros(2, 8, 5, 6), input, weight, 1));
        Assert.Contains("2x8x6x6", shape.Message);
    }

    private static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
