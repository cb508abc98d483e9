using Microsoft.ML.CompactTransformer.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Turns images (B, C, H, W) into tokens (B, N, d), row-major over the final feature map.
/// CCT: <c>NumConvLayers</c> blocks of Conv2d (no bias) -> ReLU -> MaxPool2d(3, 2, 1), hidden width 64.
/// Patch (CVT, ViT-Lite): one Conv2d with kernel = stride = patch and a bias.
/// State-dict keys: <c>conv_layers.{i}.0.weight</c> (and <c>.bias</c> for patches), as in the original.
/// </summary>
/// <remarks>
/// With oneDNN on the CPU, the convolutions run on channels-last (NHWC-strided) copies of the images and weights: oneDNN
/// then skips the reorders to and from its blocked layout, and max-pooling and the final flatten read contiguous
/// channels. That made the tokenizer's forward+backward of cct_2_3x2_32 about 1.6x cheaper in CPU time on our 2-core
/// machines (docs/PERFORMANCE.md). The weights themselves stay contiguous NCHW parameters, so state_dicts, checkpoints
/// and the ONNX export see the original layout; the same values come out either way, up to summation order.
/// </remarks>
public sealed class Tokenizer : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> conv_layers;
    private readonly Conv2d[] convolutions;
    private readonly bool pooled;

    /// <summary>
    /// Whether CPU convolutions with oneDNN run channels-last (see remarks); on by default. Process-wide, for side-by-side
    /// measurements (benchmarks/) and the test that both layouts compute the same function.
    /// </summary>
    public static bool ChannelsLastOnCpu { get; set; } = true;

    /// <summary>
    /// Whether the channels-last path pools with <see cref="MaxPoolRelu"/> (one pass forward and one backward, on the
    /// calling thread) where libtorch runs on one intra-op thread, as in a half-batch step; on by default. Process-wide,
    /// for side-by-side measurements (benchmarks/) and the test that both compute the same function.
    /// </summary>
    public static bool FusedPoolingOnCpu { get; set; } = true;

    /// <summary>
    /// Whether the channels-last path computes a convolution's weight gradient with <see cref="ConvolutionWeightGradient"/>
    /// (oneDNN then computes the input gradient only) where libtorch runs on one intra-op thread and the convolution
    /// qualifies (stride 1, input channels a multiple of 16: cct's second and later convolutions); on by default.
    /// Process-wide, for side-by-side measurements (benchmarks/) and the test that both compute the same function.
    /// </summary>
    internal static bool OwnWeightGradientOnCpu { get; set; } = true;

    /// <summary>Builds the tokenizer <paramref name="arch"/> describes, with the original initialisation.</summary>
    public Tokenizer(CctArchitecture arch) : base(nameof(Tokenizer))
    {
        conv_layers = nn.ModuleList<nn.Module<Tensor, Tensor>>();
        bool patch = arch.Tokenizer == TokenizerKind.Patch;
        pooled = !patch;
        int layers = patch ? 1 : arch.NumConvLayers;
        convolutions = new Conv2d[layers];
        for (int i = 0; i < layers; i++)
        {
            long inChannels = i == 0 ? arch.InputChannels : arch.ConvHiddenChannels;
            long outChannels = i == layers - 1 ? arch.EmbeddingDim : arch.ConvHiddenChannels;
            var conv = nn.Conv2d(inChannels, outChannels, arch.KernelSize, stride: arch.ConvStride,
                padding: arch.ConvPadding, bias: patch);
            // The original applies kaiming_normal_ (fan_in, leaky_relu with a=0) to every conv weight.
            nn.init.kaiming_normal_(conv.weight);
            convolutions[i] = conv;
            conv_layers.Add(patch
                ? nn.Sequential(conv)
                : nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(3, stride: 2, padding: 1)));
        }
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = images;
        if (ChannelsLastOnCpu && images.device_type == DeviceType.CPU && TorchRuntime.OneDnnConvolutions)
        {
            // The same blocks as conv_layers, on channels-last copies (see remarks); gradients flow back through the copies.
            x = ChannelsLast(x);
            foreach (var conv in convolutions)
            {
                var weight = ChannelsLast(conv.weight!);
                if (OwnWeightGradientOnCpu && get_num_threads() == 1 && weight.requires_grad && is_grad_enabled()
                    && conv.padding is { } padding && ConvolutionWeightGradient.Applies(x, weight, conv.stride, padding))
                {
                    var output = nn.functional.conv2d(x, weight.detach(), conv.bias, conv.stride, padding);
                    x = ConvolutionWeightGradient.Apply(output, x, weight, padding[0]);
                }
                else
                {
                    x = nn.functional.conv2d(x, weight, conv.bias, conv.stride, conv.padding);
                }
                // ReLU after the pooling instead of before: max and ReLU commute (values and gradients alike, ties
                // included, as ReLU's gradient at 0 is 0), and the ReLU then touches a quarter of the elements.
                if (pooled)
                    x = FusedPoolingOnCpu && get_num_threads() == 1 && MaxPoolRelu.Applies(x)
                        ? MaxPoolRelu.apply(x)
                        : nn.functional.relu(nn.functional.max_pool2d(x, 3, 2, 1));
            }
        }
        else
        {
            foreach (var block in conv_layers)
                x = block.call(x);
        }
        // (B, d, h, w) -> (B, h*w, d)
        return x.flatten(2, 3).transpose(-2, -1).MoveToOuterDisposeScope();
    }

    // An NCHW-shaped tensor whose channels are innermost in memory (strides of NHWC): libtorch's "channels_last", which
    // TorchSharp 0.107 offers no memory_format argument for.
    private static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
