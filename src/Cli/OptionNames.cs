using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>The command-line spellings of the attention variants, scopes, devices and precisions (kebab case), both ways.</summary>
internal static class OptionNames
{
    public static readonly IReadOnlyDictionary<string, AttentionVariant> Attention = new Dictionary<string, AttentionVariant>(StringComparer.OrdinalIgnoreCase)
    {
        ["standard"] = AttentionVariant.Standard,
        ["softmax-values"] = AttentionVariant.SoftmaxValues,
        ["remix"] = AttentionVariant.Remix,
        ["additive"] = AttentionVariant.Additive,
        ["subtractive"] = AttentionVariant.Subtractive,
        ["custom"] = AttentionVariant.Custom,
    };

    public static readonly IReadOnlyDictionary<string, AttentionScope> Scope = new Dictionary<string, AttentionScope>(StringComparer.OrdinalIgnoreCase)
    {
        ["self-attention"] = AttentionScope.SelfAttention,
        ["pooling"] = AttentionScope.Pooling,
        ["both"] = AttentionScope.Both,
    };

    public static readonly IReadOnlyDictionary<string, TrainingDevice> Device = new Dictionary<string, TrainingDevice>(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = TrainingDevice.Auto,
        ["cpu"] = TrainingDevice.Cpu,
        ["cuda"] = TrainingDevice.Cuda,
    };

    public static readonly IReadOnlyDictionary<string, MixedPrecision> Precision = new Dictionary<string, MixedPrecision>(StringComparer.OrdinalIgnoreCase)
    {
        ["fp32"] = MixedPrecision.None,
        ["bf16"] = MixedPrecision.BFloat16,
    };

    public static string Of(AttentionVariant variant) => Attention.First(kv => kv.Value == variant).Key;

    public static string Of(AttentionScope scope) => Scope.First(kv => kv.Value == scope).Key;

    /// <summary>Looks <paramref name="value"/> up; the error names the option, the value and the accepted names.</summary>
    public static bool TryParse<T>(IReadOnlyDictionary<string, T> names, string option, string value, out T result, out string? error)
    {
        if (names.TryGetValue(value, out result!))
        {
            error = null;
            return true;
        }
        error = $"'{value}' is not a valid {option} value; expected one of: {string.Join(", ", names.Keys)}.";
        return false;
    }
}
