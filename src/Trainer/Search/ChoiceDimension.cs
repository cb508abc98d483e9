namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>A finite set of values from <c>[Choice(candidates, default)]</c> or <c>[BooleanChoice]</c>, each drawn with equal probability.</summary>
public sealed class ChoiceDimension : SearchDimension
{
    private readonly object defaultValue;

    internal ChoiceDimension(string name, Type valueType, IReadOnlyList<object> candidates, object? defaultValue)
        : base(name, valueType)
    {
        if (candidates.Count == 0)
            throw new ArgumentException($"[Choice] on '{name}' has no candidates.");
        Candidates = candidates.Select(ToValueType).ToArray();
        if (Candidates.Distinct().Count() != Candidates.Count)
            throw new ArgumentException($"[Choice] on '{name}' lists a candidate twice.");
        this.defaultValue = defaultValue is null ? Candidates[0] : ToValueType(defaultValue);
        if (!Contains(this.defaultValue))
            throw new ArgumentException($"[Choice] on '{name}' has default {defaultValue}, which is not a candidate.");
    }

    /// <summary>The values, in the attribute's order, converted to <see cref="SearchDimension.ValueType"/>.</summary>
    public IReadOnlyList<object> Candidates { get; }

    /// <inheritdoc />
    public override object Default => defaultValue;

    /// <inheritdoc />
    public override object Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Candidates[random.Next(Candidates.Count)];
    }

    /// <inheritdoc />
    public override bool Contains(object value) => Candidates.Contains(value);

    /// <inheritdoc />
    public override string ToString() => $"{Name}: choice of {string.Join(", ", Candidates.Select(Format))}";
}
