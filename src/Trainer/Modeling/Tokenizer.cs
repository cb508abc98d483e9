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
public sealed class Tokenizer : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> conv_layers;

    /// <summary>Builds the tokenizer <paramref name="arch"/> describes, with the original initialisation.</summary>
    public Tokenizer(CctArchitecture arch) : base(nameof(Tokenizer))
    {
        conv_layers = nn.ModuleList<nn.Module<Tensor, Tensor>>();
        bool patch = arch.Tokenizer == TokenizerKind.Patch;
        int layers = patch ? 1 : arch.NumConvLayers;
        for (int i = 0; i < layers; i++)
        {
            long inChannels = i == 0 ? arch.InputChannels : arch.ConvHiddenChannels;
            long outChannels = i == layers - 1 ? arch.EmbeddingDim : arch.ConvHiddenChannels;
            var conv = nn.Conv2d(inChannels, outChannels, arch.KernelSize, stride: arch.ConvStride,
                padding: arch.ConvPadding, bias: patch);
            // The original applies kaiming_normal_ (fan_in, leaky_relu with a=0) to every conv weight.
            nn.init.kaiming_normal_(conv.weight);
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
        foreach (var block in conv_layers)
            x = block.call(x);
        // (B, d, h, w) -> (B, h*w, d)
        return x.flatten(2, 3).transpose(-2, -1).MoveToOuterDisposeScope();
    }
}
