using System.Globalization;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>One dimension of a search space, read from a <c>[Range]</c>, <c>[Choice]</c> or <c>[BooleanChoice]</c> attribute.</summary>
public abstract class SearchDimension
{
    private protected SearchDimension(string name, Type valueType)
    {
        Name = name;
        ValueType = valueType;
    }

    /// <summary>The property or field name, which is also the parameter's name in trial results.</summary>
    public string Name { get; }

    /// <summary>The type of the property or field.</summary>
    public Type ValueType { get; }

    /// <summary>The value used when nothing is sampled (the attribute's init or default value).</summary>
    public abstract object Default { get; }

    /// <summary>Draws one value, already of <see cref="ValueType"/>.</summary>
    public abstract object Sample(Random random);

    /// <summary>True when <paramref name="value"/> is a value this dimension can produce.</summary>
    public abstract bool Contains(object value);

    /// <summary>Invariant text of a value, as trial CSV files store it.</summary>
    public string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Reads text <see cref="Format"/> wrote back into a value of <see cref="ValueType"/>.</summary>
    public object Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (ValueType.IsEnum)
            return Enum.Parse(ValueType, text);
        if (ValueType == typeof(string))
            return text;
        if (ValueType == typeof(bool))
            return bool.Parse(text);
        return Convert.ChangeType(text, ValueType, CultureInfo.InvariantCulture);
    }

    /// <summary>Converts an attribute's value (a boxed int, float, double, enum or string) to <see cref="ValueType"/>.</summary>
    private protected object ToValueType(object value)
    {
        if (ValueType.IsInstanceOfType(value))
            return value;
        if (ValueType.IsEnum)
            return Enum.ToObject(ValueType, value);
        return Convert.ChangeType(value, ValueType, CultureInfo.InvariantCulture);
    }
}
