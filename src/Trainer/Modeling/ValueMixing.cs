using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The attention variant in force: <c>V' = Beta * V + Alpha * softmax_over_tokens(V)</c> where <see cref="Scope"/> says.
/// One instance is shared by every module of a network, so a training loop can change
/// <see cref="Alpha"/> and <see cref="Beta"/> between steps and every layer sees the new values.
/// </summary>
public sealed class ValueMixing
{
    /// <summary>Weight of <c>softmax_over_tokens(V)</c>. 0 for standard attention.</summary>
    public double Alpha { get; set; }

    /// <summary>Weight of the plain values <c>V</c>. 1 for standard attention.</summary>
    public double Beta { get; set; } = 1.0;

    /// <summary>Where the transform is applied.</summary>
    public AttentionScope Scope { get; set; } = AttentionScope.Both;

    /// <summary>Creates standard attention (alpha 0, beta 1).</summary>
    public ValueMixing() { }

    /// <summary>Creates a variant with the given weights and scope.</summary>
    public ValueMixing(double alpha, double beta, AttentionScope scope)
    {
        Alpha = alpha;
        Beta = beta;
        Scope = scope;
    }

    /// <summary>True when <paramref name="where"/> is in scope and the values are not left as they are.</summary>
    public bool AppliesTo(AttentionScope where) => (Scope & where) != 0 && !(Alpha == 0 && Beta == 1);

    /// <summary>
    /// Returns <c>Beta * values + Alpha * softmax(values, tokenDim)</c> when <paramref name="where"/> is in
    /// scope, else <paramref name="values"/> itself (no copy).
    /// </summary>
    internal Tensor Apply(Tensor values, long tokenDim, AttentionScope where)
    {
        if (!AppliesTo(where))
            return values;
        using var scope = NewDisposeScope();
        var mixed = values.softmax(tokenDim);
        if (Alpha != 1)
            mixed = mixed.mul(Alpha);
        if (Beta != 0)
            mixed = Beta == 1 ? mixed.add(values) : mixed.add(values, Beta);
        return mixed.MoveToOuterDisposeScope();
    }

    /// <summary>A copy, so that settings can be captured without sharing the live instance.</summary>
    public ValueMixing Clone() => new(Alpha, Beta, Scope);

    /// <inheritdoc />
    public override string ToString() => $"alpha={Alpha}, beta={Beta}, scope={Scope}";
}
