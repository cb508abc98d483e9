namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>One graph node (<c>NodeProto</c>).</summary>
internal sealed record OnnxNode(
    string Name,
    string OpType,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxAttribute> Attributes,
    string Domain = "");
