using Google.Protobuf;
using WireType = Google.Protobuf.WireFormat.WireType;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>
/// Builds protobuf messages field by field, for ONNX models in shapes our exporter never writes
/// (float_data, packed and unpacked repeats, unknown fields, other producers).
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();
    private readonly CodedOutputStream _out;

    public ProtoWriter() => _out = new CodedOutputStream(_buffer, leaveOpen: true);

    public ProtoWriter Varint(int field, long value)
    {
        _out.WriteTag(field, WireType.Varint);
        _out.WriteInt64(value);
        return this;
    }

    public ProtoWriter Fixed32(int field, float value)
    {
        _out.WriteTag(field, WireType.Fixed32);
        _out.WriteFloat(value);
        return this;
    }

    public ProtoWriter Fixed64(int field, ulong value)
    {
        _out.WriteTag(field, WireType.Fixed64);
        _out.WriteFixed64(value);
        return this;
    }

    public ProtoWriter String(int field, string value)
    {
        _out.WriteTag(field, WireType.LengthDelimited);
        _out.WriteString(value);
        return this;
    }

    public ProtoWriter Bytes(int field, byte[] value)
    {
        _out.WriteTag(field, WireType.LengthDelimited);
        _out.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public ProtoWriter Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedFloats(int field, params float[] values) =>
        Message(field, p => { foreach (float v in values) p._out.WriteFloat(v); });

    public ProtoWriter PackedInt64s(int field, params long[] values) =>
        Message(field, p => { foreach (long v in values) p._out.WriteInt64(v); });

    /// <summary>Lets a caller add fields in the middle of a fluent chain.</summary>
    public ProtoWriter Also(Action<ProtoWriter>? more)
    {
        more?.Invoke(this);
        return this;
    }

    public byte[] ToArray()
    {
        _out.Flush();
        return _buffer.ToArray();
    }
}
