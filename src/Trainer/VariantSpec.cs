using System.Globalization;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// A named attention variant with its scope and weight, written <c>NAME[:SCOPE][@ALPHA]</c>, e.g. <c>standard</c>,
/// <c>softmax-values:pooling</c>, <c>remix:both@0.5</c>, <c>additive@0.5</c>, <c>subtractive:self-attention</c>.
/// </summary>
/// <remarks>
/// <para>Names (see <see cref="AttentionVariant"/>): <c>standard</c> (alpha 0, beta 1), <c>softmax-values</c> (1, 0),
/// <c>remix</c> (alpha, 1 - alpha; alpha 0.5 unless given), <c>additive</c> (alpha, 1; alpha 1 unless given),
/// <c>subtractive</c> (-|alpha|, 1; alpha 1 unless given). Scopes: <c>pooling</c> (the default, as for the trainer's
/// option), <c>self-attention</c>, <c>both</c>.</para>
/// <para><see cref="Parse"/> and <see cref="ToString"/> round-trip: <c>VariantSpec.Parse(s.ToString()) == s</c>.</para>
/// </remarks>
/// <param name="Variant">The named form; <see cref="AttentionVariant.Custom"/> has no name and is refused.</param>
/// <param name="Scope">Where the value transform applies.</param>
/// <param name="Alpha">The weight given after <c>@</c>; null takes the variant's default.</param>
public sealed record VariantSpec(AttentionVariant Variant, AttentionScope Scope = AttentionScope.Pooling, double? Alpha = null)
{
    private static readonly (string Name, AttentionVariant Variant, bool TakesAlpha)[] Names =
    [
        ("standard", AttentionVariant.Standard, false),
        ("softmax-values", AttentionVariant.SoftmaxValues, false),
        ("remix", AttentionVariant.Remix, true),
        ("additive", AttentionVariant.Additive, true),
        ("subtractive", AttentionVariant.Subtractive, true),
    ];

    private static readonly (string Name, AttentionScope Scope)[] Scopes =
    [
        ("pooling", AttentionScope.Pooling),
        ("self-attention", AttentionScope.SelfAttention),
        ("both", AttentionScope.Both),
    ];

    /// <summary>Standard attention (alpha 0, beta 1), the usual baseline.</summary>
    public static VariantSpec Standard { get; } = new(AttentionVariant.Standard);

    /// <summary>The variant's name as written in a spec, e.g. <c>softmax-values</c>.</summary>
    public string Name => Row(Variant).Name;

    /// <summary>The scope's name as written in a spec, e.g. <c>self-attention</c>.</summary>
    public string ScopeName => Scopes.FirstOrDefault(s => s.Scope == Scope).Name
        ?? throw new InvalidOperationException($"Scope {Scope} has no name in a variant spec.");

    /// <summary>The (alpha, beta) this spec stands for.</summary>
    public (double Alpha, double Beta) Weights => AttentionVariantWeights.Resolve(Variant, Alpha);

    /// <summary>The names <see cref="Parse"/> accepts, in table order.</summary>
    public static IReadOnlyList<string> VariantNames { get; } = Names.Select(n => n.Name).ToArray();

    /// <summary>The scope names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> ScopeNames { get; } = Scopes.Select(s => s.Name).ToArray();

    /// <summary>Reads <c>NAME[:SCOPE][@ALPHA]</c> (case-insensitive, invariant culture).</summary>
    /// <exception cref="FormatException">The message names the token that is wrong and what was expected.</exception>
    public static VariantSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string spec = text.Trim();
        double? alpha = null;
        int at = spec.IndexOf('@');
        if (at >= 0)
        {
            string number = spec[(at + 1)..];
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double a) || !double.IsFinite(a))
                throw new FormatException($"Alpha '{number}' in attention variant '{text}' is not a finite number (use a dot for decimals, e.g. remix@0.5).");
            alpha = a;
            spec = spec[..at];
        }
        var scope = AttentionScope.Pooling;
        int colon = spec.IndexOf(':');
        if (colon >= 0)
        {
            string scopeToken = spec[(colon + 1)..];
            scope = Scopes.FirstOrDefault(s => s.Name.Equals(scopeToken, StringComparison.OrdinalIgnoreCase)) is { Name: not null } found
                ? found.Scope
                : throw new FormatException($"Unknown attention scope '{scopeToken}' in '{text}'; expected one of {string.Join(", ", ScopeNames)}.");
            spec = spec[..colon];
        }
        var row = Names.FirstOrDefault(n => n.Name.Equals(spec, StringComparison.OrdinalIgnoreCase));
        if (row.Name is null)
            throw new FormatException($"Unknown attention variant '{spec}' in '{text}'; expected one of {string.Join(", ", VariantNames)}.");
        if (alpha is not null && !row.TakesAlpha)
            throw new FormatException($"Attention variant '{row.Name}' in '{text}' takes no alpha; only remix, additive and subtractive do.");
        return new VariantSpec(row.Variant, scope, alpha);
    }

    /// <summary>Like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out VariantSpec? spec)
    {
        spec = null;
        if (text is null)
            return false;
        try
        {
            spec = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Reads a comma-separated list, e.g. <c>standard,softmax-values:pooling,remix:both@0.5</c>.</summary>
    /// <exception cref="FormatException">An entry is wrong (the message names it), or the list is empty.</exception>
    public static IReadOnlyList<VariantSpec> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var specs = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToArray();
        return specs.Length > 0 ? specs : throw new FormatException($"'{text}' names no attention variant.");
    }

    /// <summary>The constant schedule of this spec's weights.</summary>
    public IMixingSchedule ToSchedule()
    {
        var (alpha, beta) = Weights;
        return MixingSchedule.Constant(alpha, beta);
    }

    /// <summary>Sets the attention fields of <paramref name="options"/> (variant, alpha, scope) to this spec; a schedule already set is cleared.</summary>
    public void ApplyTo(CompactTransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = Name; // refuses Custom before anything is changed
        options.Attention = Variant;
        options.Alpha = Alpha;
        options.Beta = null;
        options.AttentionScope = Scope;
        options.MixingSchedule = null;
    }

    /// <summary>The canonical spec text: the scope only when not pooling, the alpha only when given.</summary>
    public override string ToString()
    {
        string text = Name;
        if (Scope != AttentionScope.Pooling)
            text += ":" + ScopeName;
        if (Alpha is { } a)
            text += "@" + a.ToString(CultureInfo.InvariantCulture);
        return text;
    }

    private static (string Name, AttentionVariant Variant, bool TakesAlpha) Row(AttentionVariant variant) =>
        Names.FirstOrDefault(n => n.Variant == variant) is { Name: not null } row
            ? row
            : throw new InvalidOperationException($"Attention variant {variant} has no name in a variant spec; give alpha and beta directly instead.");
}
