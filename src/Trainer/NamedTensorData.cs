namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// The values of one state-dict entry without any tensor library: float32 data in C (row-major)
/// order and its shape. The name is the key it is stored under (e.g. <c>classifier.fc.weight</c>).
/// </summary>
public sealed class NamedTensorData
{
    /// <summary>Creates an entry; <paramref name="data"/> is kept, not copied.</summary>
    /// <exception cref="ArgumentException">A dimension is negative or the element count does not match the shape.</exception>
    public NamedTensorData(float[] data, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative dimension; expected sizes >= 0.", nameof(shape));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException(
                $"Data has {data.Length} values; shape [{string.Join(", ", shape)}] needs {count}.", nameof(data));
        Data = data;
        Shape = shape;
    }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public long[] Shape { get; }

    /// <summary>True when <see cref="Shape"/> equals <paramref name="expected"/>.</summary>
    public bool HasShape(params long[] expected) => Shape.AsSpan().SequenceEqual(expected);

    /// <inheritdoc />
    public override string ToString() => $"float32[{string.Join(", ", Shape)}]";
}
