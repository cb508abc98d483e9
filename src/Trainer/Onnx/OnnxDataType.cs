namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>The ONNX <c>TensorProto.DataType</c> codes this exporter emits.</summary>
internal enum OnnxDataType
{
    Float = 1,
    String = 8,
    Int64 = 7,
}
