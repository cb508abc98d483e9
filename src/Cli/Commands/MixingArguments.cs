using System.Globalization;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>The checks and resolution of <c>--attention --alpha --beta --scope</c>, shared by <c>cct import</c> and <c>cct train</c>.</summary>
internal static class MixingArguments
{
    /// <summary>The value mixing the flags stand for; weights the variant would ignore are refused rather than dropped silently.</summary>
    public static ValueMixing Resolve(AttentionVariant variant, double? alpha, double? beta, AttentionScope? scope)
    {
        bool takesAlpha = variant is AttentionVariant.Remix or AttentionVariant.Additive or AttentionVariant.Subtractive or AttentionVariant.Custom;
        bool takesBeta = variant is AttentionVariant.Custom;
        string name = OptionNames.Of(variant);
        if (alpha is not null && !takesAlpha)
            throw new CommandLineException($"--alpha {Format(alpha.Value)} has no effect with --attention {name}; use remix, additive, subtractive or custom.");
        if (beta is not null && !takesBeta)
            throw new CommandLineException($"--beta {Format(beta.Value)} has no effect with --attention {name}; use custom.");
        if (scope is AttentionScope.None)
            throw new CommandLineException("--scope must be self-attention, pooling or both.");
        if (alpha is { } x && !double.IsFinite(x) || beta is { } y && !double.IsFinite(y))
            throw new CommandLineException("--alpha and --beta must be finite.");
        var (a, b) = AttentionVariantWeights.Resolve(variant, alpha, beta);
        return new ValueMixing(a, b, scope ?? AttentionScope.Pooling);
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
