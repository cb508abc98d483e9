namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// A typed graph input or output (<c>ValueInfoProto</c>). A dimension is a fixed size or, when
/// <see cref="SymbolicDims"/> names it, a symbolic one (e.g. the batch axis).
/// </summary>
internal sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, IReadOnlyList<long> Dims)
{
    /// <summary>Per dimension: a symbolic name, or null for the fixed size in <see cref="Dims"/>.</summary>
    public IReadOnlyList<string?>? SymbolicDims { get; init; }
}
