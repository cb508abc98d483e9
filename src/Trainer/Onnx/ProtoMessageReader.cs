using System.Text;
using Google.Protobuf;
using WireType = Google.Protobuf.WireFormat.WireType;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Walks the fields of one protobuf message held in a window of a byte array. Every field is read with a
/// fresh <see cref="CodedInputStream"/> limited to the window, so that a length-delimited field can be handed
/// out as a sub-window (no copy) and the stream never reads past the message it belongs to. Declared lengths are
/// checked against the bytes left, so truncated input is reported as such instead of as garbage.
/// </summary>
internal sealed class ProtoMessageReader
{
    private readonly byte[] _buffer;
    private readonly int _end;
    private readonly string _source;
    private readonly string _message;
    private int _position;
    private CodedInputStream? _input;
    private WireType _wireType;

    /// <param name="buffer">The whole input.</param>
    /// <param name="offset">Where this message starts.</param>
    /// <param name="length">Its length in bytes.</param>
    /// <param name="source">What the input is, for error messages (e.g. a file name).</param>
    /// <param name="message">The message type, for error messages (e.g. <c>GraphProto</c>).</param>
    public ProtoMessageReader(byte[] buffer, int offset, int length, string source, string message)
    {
        _buffer = buffer;
        _position = offset;
        _end = offset + length;
        _source = source;
        _message = message;
    }

    /// <summary>Field number of the field that <see cref="Next"/> moved to.</summary>
    public int Field { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        if (_position >= _end)
            return false;
        _input = new CodedInputStream(_buffer, _position, _end - _position);
        uint tag = _input.ReadTag(); // throws on field number 0, which no valid message has
        Field = WireFormat.GetTagFieldNumber(tag);
        _wireType = WireFormat.GetTagWireType(tag);
        _position = (int)_input.Position;
        return true;
    }

    /// <summary>An int64/int32/enum field (varint).</summary>
    public long Int64()
    {
        Expect(WireType.Varint);
        long value = _input!.ReadInt64();
        _position = (int)_input.Position;
        return value;
    }

    /// <summary>A UTF-8 string field.</summary>
    public string String()
    {
        var (offset, length) = Window();
        return Encoding.UTF8.GetString(_buffer, offset, length);
    }

    /// <summary>A bytes field, as a view of the input (no copy).</summary>
    public ReadOnlySpan<byte> Bytes()
    {
        var (offset, length) = Window();
        return _buffer.AsSpan(offset, length);
    }

    /// <summary>An embedded message field.</summary>
    public ProtoMessageReader Message(string messageType)
    {
        var (offset, length) = Window();
        return new ProtoMessageReader(_buffer, offset, length, _source, messageType);
    }

    /// <summary>A repeated int64 field, packed (one length-delimited run) or not (one varint per field).</summary>
    public void Int64s(List<long> into)
    {
        if (_wireType == WireType.Varint)
        {
            into.Add(Int64());
            return;
        }
        var (offset, length) = Window();
        var packed = new CodedInputStream(_buffer, offset, length);
        while (!packed.IsAtEnd)
            into.Add(packed.ReadInt64());
    }

    /// <summary>A repeated float field, packed or not (one fixed32 per field).</summary>
    public void Floats(List<float> into)
    {
        if (_wireType == WireType.Fixed32)
        {
            into.Add(_input!.ReadFloat());
            _position = (int)_input.Position;
            return;
        }
        var (offset, length) = Window();
        if (length % 4 != 0)
            throw Invalid($"a packed float field of {_message} is {length} bytes long, not a multiple of 4");
        var packed = new CodedInputStream(_buffer, offset, length);
        while (!packed.IsAtEnd)
            into.Add(packed.ReadFloat());
    }

    /// <summary>Skips the current field, whatever its type; unknown fields are normal in newer ONNX versions.</summary>
    public void Skip()
    {
        if (_wireType == WireType.LengthDelimited)
        {
            Window();
            return;
        }
        _input!.SkipLastField();
        _position = (int)_input.Position;
    }

    /// <summary>The payload of the current length-delimited field; moves past it.</summary>
    private (int Offset, int Length) Window()
    {
        Expect(WireType.LengthDelimited);
        // ReadLength casts the varint to int: a damaged one can come out negative, which would move the reader backwards.
        int length = _input!.ReadLength();
        int offset = (int)_input.Position;
        if (length < 0)
            throw Invalid($"field {Field} of {_message} at byte {offset} declares a negative length ({length})");
        if (length > _end - offset)
            throw new InvalidDataException(
                $"{_source} is truncated: field {Field} of {_message} at byte {offset} declares {length} bytes, but only {_end - offset} remain.");
        _position = offset + length;
        return (offset, length);
    }

    private void Expect(WireType wireType)
    {
        if (_wireType != wireType)
            throw Invalid($"field {Field} of {_message} has wire type {_wireType}; ONNX declares it as {wireType}");
    }

    /// <summary>An error that names the input and says it is not a well-formed ONNX model.</summary>
    public InvalidDataException Invalid(string reason) => new($"{_source} is not a well-formed ONNX model: {reason}.");
}
