using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>What <c>cct import</c> was asked to do (one property per option).</summary>
internal sealed record ImportArguments
{
    /// <summary>The PyTorch state_dict (.pt/.pth) with the original implementation's key names.</summary>
    public required string Checkpoint { get; init; }

    /// <summary>A preset name of <see cref="CctPresets"/>.</summary>
    public required string Architecture { get; init; }

    /// <summary>Number of classes of the checkpoint's classifier head.</summary>
    public required int Classes { get; init; }

    /// <summary>Square input size in pixels; null keeps the preset's.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Input channels; null keeps the preset's (3).</summary>
    public int? Channels { get; init; }

    /// <summary>The attention variant to export.</summary>
    public AttentionVariant Attention { get; init; } = AttentionVariant.Standard;

    /// <summary>Alpha, for the variants that take one.</summary>
    public double? Alpha { get; init; }

    /// <summary>Beta, for <see cref="AttentionVariant.Custom"/>.</summary>
    public double? Beta { get; init; }

    /// <summary>Where the variant applies; null means <see cref="AttentionScope.Pooling"/> (the trainer's default).</summary>
    public AttentionScope? Scope { get; init; }

    /// <summary>Factor applied to the input first.</summary>
    public double PixelScale { get; init; } = 1;

    /// <summary>One mean for all channels or one per channel; null means 0.</summary>
    public IReadOnlyList<double>? Mean { get; init; }

    /// <summary>One std for all channels or one per channel; null means 1.</summary>
    public IReadOnlyList<double>? Std { get; init; }

    /// <summary>One name per class in class-index order; null names them "0", "1", ...</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Where the ML.NET model zip goes.</summary>
    public required string Output { get; init; }
}
