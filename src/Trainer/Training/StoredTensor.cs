using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// One tensor record of TorchSharp's binary format, located and checked by <see cref="CheckpointBinaryReader"/> but
/// not yet copied anywhere: its element type, its shape, and where the record and its data lie in the file.
/// </summary>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="RecordOffset">Where the record (type code first) starts.</param>
/// <param name="DataOffset">Where its data starts.</param>
/// <param name="DataLength">Bytes of data: the element count times the element size.</param>
internal sealed record StoredTensor(ScalarType DType, long[] Shape, int RecordOffset, int DataOffset, int DataLength)
{
    /// <summary>True when the record can be read into <paramref name="tensor"/> as it is.</summary>
    public bool Fits(Tensor tensor) => DType == tensor.dtype && Shape.AsSpan().SequenceEqual(tensor.shape);

    /// <summary>Type and shape, as in mismatch messages: <c>Float32[16, 3, 3, 3]</c>.</summary>
    public override string ToString() => Describe(DType, Shape);

    public static string Describe(ScalarType type, long[] shape) => $"{type}[{string.Join(", ", shape)}]";
}
