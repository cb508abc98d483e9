namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>One node attribute (<c>AttributeProto</c>); exactly one of the value fields is set, as <see cref="Kind"/> says.</summary>
internal sealed record OnnxAttribute
{
    /// <summary>ONNX <c>AttributeProto.AttributeType</c> codes for the kinds used here.</summary>
    public enum AttributeKind { Float = 1, Int = 2, String = 3, Ints = 7, Strings = 8 }

    public required string Name { get; init; }
    public required AttributeKind Kind { get; init; }
    public float FloatValue { get; init; }
    public long IntValue { get; init; }
    public string? StringValue { get; init; }
    public IReadOnlyList<long>? IntValues { get; init; }
    public IReadOnlyList<string>? StringValues { get; init; }

    public static OnnxAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, FloatValue = value };
    public static OnnxAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, IntValue = value };
    public static OnnxAttribute String(string name, string value) => new() { Name = name, Kind = AttributeKind.String, StringValue = value };
    public static OnnxAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, IntValues = values };
    public static OnnxAttribute Strings(string name, IReadOnlyList<string> values) => new() { Name = name, Kind = AttributeKind.Strings, StringValues = values };
}
