namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>A constant tensor stored in the graph (<c>TensorProto</c>): float, int64 or string data, exactly one set.</summary>
internal sealed record OnnxInitializer(string Name, OnnxDataType DataType, IReadOnlyList<long> Dims)
{
    public float[]? Floats { get; init; }
    public long[]? Int64s { get; init; }
    public string[]? Strings { get; init; }
}
