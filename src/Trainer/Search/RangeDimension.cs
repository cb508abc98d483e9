using System.Globalization;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>A numeric interval from <c>[Range(min, max, init, logBase)]</c>, sampled uniformly, or uniformly in log space.</summary>
public sealed class RangeDimension : SearchDimension
{
    private readonly double? init;

    internal RangeDimension(string name, Type valueType, double min, double max, double? init, bool logBase)
        : base(name, valueType)
    {
        if (valueType != typeof(double) && valueType != typeof(float) && valueType != typeof(int) && valueType != typeof(long))
            throw new ArgumentException($"[Range] on '{name}' needs an int, long, float or double member; it is {valueType.Name}.");
        if (!(min < max))
            throw new ArgumentException($"[Range] on '{name}' needs min < max; it has min {min}, max {max}.");
        if (logBase && min <= 0)
            throw new ArgumentException($"[Range] on '{name}' is log-scaled, so min must be positive; it is {min}.");
        if (init is { } i && (i < min || i > max))
            throw new ArgumentException($"[Range] on '{name}' has init {i} outside [{min}, {max}].");
        Min = min;
        Max = max;
        LogBase = logBase;
        this.init = init;
    }

    /// <summary>Smallest value.</summary>
    public double Min { get; }

    /// <summary>Largest value.</summary>
    public double Max { get; }

    /// <summary>True when values are spread evenly over the logarithm (e.g. as many between 1e-4 and 1e-3 as between 1e-3 and 1e-2).</summary>
    public bool LogBase { get; }

    /// <summary>True for int and long members: values are whole numbers.</summary>
    public bool IsInteger => ValueType == typeof(int) || ValueType == typeof(long);

    /// <summary>The attribute's init value, else the middle of the range (geometric middle on a log scale).</summary>
    public override object Default => FromDouble(init ?? (LogBase ? Math.Sqrt(Min * Max) : (Min + Max) / 2));

    /// <inheritdoc />
    public override object Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        // Whole numbers: widen by half a step each side so that rounding gives the end values their full share.
        double low = IsInteger ? Min - 0.5 : Min, high = IsInteger ? Max + 0.5 : Max;
        if (LogBase && IsInteger)
            low = Math.Max(low, Min / 2);
        double u = random.NextDouble();
        double value = LogBase ? Math.Exp(Math.Log(low) + u * (Math.Log(high) - Math.Log(low))) : low + u * (high - low);
        return FromDouble(value);
    }

    /// <inheritdoc />
    public override bool Contains(object value)
    {
        double v = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        return v >= Min && v <= Max && (!IsInteger || v == Math.Round(v));
    }

    private object FromDouble(double value)
    {
        value = Math.Clamp(value, Min, Max);
        return IsInteger ? ToValueType(Math.Round(value)) : ToValueType(value);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {(LogBase ? "log-" : "")}range [{Min}, {Max}]";
}
