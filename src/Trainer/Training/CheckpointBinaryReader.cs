using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Reads the binary formats of a training checkpoint (TorchSharp's <c>Module.save</c> and optimizer
/// <c>save_state_dict</c>, and the tracker's own) from a whole file in memory. Every count and length read from the
/// file is checked against the bytes left before anything is allocated or handed to libtorch, so a truncated or damaged
/// file gives an <see cref="InvalidDataException"/> naming the file and the byte, never a huge allocation or a native
/// read past the data. TorchSharp's own readers trust the file (an array sized by a shape rank read from it, a data
/// copy that does not check how much came back): they only ever see bytes that passed through here.
/// </summary>
internal sealed class CheckpointBinaryReader
{
    /// <summary>More dimensions than any tensor of a network; a larger rank is damage.</summary>
    private const int MaxRank = 16;

    private CheckpointBinaryReader(byte[] bytes, string path)
    {
        Bytes = bytes;
        Path = path;
    }

    /// <summary>The whole file.</summary>
    public byte[] Bytes { get; }

    /// <summary>The file, as named in errors.</summary>
    public string Path { get; }

    /// <summary>Where the next read starts.</summary>
    public int Position { get; private set; }

    private int Remaining => Bytes.Length - Position;

    /// <summary>Reads the file at <paramref name="path"/> whole.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist; <paramref name="expected"/> says what it should hold.</exception>
    public static CheckpointBinaryReader Open(string path, string expected)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The checkpoint file '{path}' is missing; expected {expected}.", path);
        if (new FileInfo(path).Length > Array.MaxLength)
            throw new InvalidDataException($"'{path}' is larger than 2 GB; expected {expected}.");
        return new CheckpointBinaryReader(File.ReadAllBytes(path), path);
    }

    /// <summary>An unsigned LEB128 number (TorchSharp's encoding of counts, type codes and dimensions).</summary>
    public long Leb128(string what)
    {
        int start = Position;
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (Remaining < 1)
                throw Truncated(what, start);
            byte b = Bytes[Position++];
            if (shift == 63 && b > 1 || shift > 63)
                throw Damaged($"{what} is not a valid number", start);
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                break;
        }
        if (value > long.MaxValue)
            throw Damaged($"{what} is not a valid number", start);
        return (long)value;
    }

    /// <summary>A count stored as LEB128, which must be at most <paramref name="max"/>.</summary>
    public int Count(string what, long max)
    {
        int start = Position;
        long value = Leb128(what);
        if (value > max)
            throw Damaged($"{what} is {value}; at most {max} fit in what is left of the file", start);
        return (int)value;
    }

    public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

    public long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

    public double Double(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    public bool Boolean(string what)
    {
        int start = Position;
        byte b = Take(1, what)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw Damaged($"{what} is byte {b}, not a boolean (0 or 1)", start),
        };
    }

    /// <summary>A string as <see cref="BinaryWriter.Write(string)"/> writes it: a 7-bit encoded byte count, then UTF-8.</summary>
    public string String(string what)
    {
        int start = Position;
        int length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 28)
                throw Damaged($"the length of {what} is not a valid number", start);
            if (Remaining < 1)
                throw Truncated(what, start);
            byte b = Bytes[Position++];
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                break;
        }
        if (length < 0 || length > Remaining)
            throw Truncated($"{what} ({length} bytes)", start);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length, what));
        }
        catch (DecoderFallbackException)
        {
            throw Damaged($"{what} is not valid UTF-8", start);
        }
    }

    /// <summary>
    /// A tensor record as <c>TensorExtensionMethods.Save</c> writes it: type code, rank, dimensions (all LEB128), then the
    /// raw elements. Only located and checked; the data stays where it is.
    /// </summary>
    public StoredTensor Tensor(string what)
    {
        int start = Position;
        long code = Leb128($"the type of {what}");
        int elementSize = ElementSize(code);
        if (elementSize == 0)
            throw Damaged($"{what} has element type code {code}, which is no tensor type", start);
        int rank = Count($"the rank of {what}", MaxRank);
        var shape = new long[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = Leb128($"dimension {i} of {what}");
            // The product is bounded by the bytes left at every step, so it cannot overflow.
            if (shape[i] != 0 && elements > Remaining / elementSize / shape[i])
                throw Truncated($"{what} ({StoredTensor.Describe((ScalarType)code, shape[..(i + 1)])}...)", start);
            elements *= shape[i];
        }
        long length = elements * elementSize;
        if (length > Remaining)
            throw Truncated($"the data of {what} ({StoredTensor.Describe((ScalarType)code, shape)}, {length} bytes)", start);
        int dataOffset = Position;
        Position += (int)length;
        return new StoredTensor((ScalarType)code, shape, start, dataOffset, (int)length);
    }

    /// <summary>Checks that nothing follows what was read: extra bytes mean the file is not what it claims to be.</summary>
    public void ExpectEnd(string what)
    {
        if (Remaining > 0)
            throw Damaged($"{Remaining} bytes follow {what}, where the file should end", Position);
    }

    /// <summary>An error naming the file, what was being read and where.</summary>
    public InvalidDataException Damaged(string reason, int at) =>
        new($"The checkpoint file '{Path}' is damaged: {reason} (byte {at} of {Bytes.Length}).");

    private InvalidDataException Truncated(string what, int at) =>
        new($"The checkpoint file '{Path}' is truncated or damaged: {what} at byte {at} runs past its end ({Bytes.Length} bytes).");

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
            throw Truncated(what, Position);
        var span = Bytes.AsSpan(Position, count);
        Position += count;
        return span;
    }

    /// <summary>Bytes per element of a TorchSharp <c>ScalarType</c> code; 0 for codes that are not element types.</summary>
    private static int ElementSize(long code) => code switch
    {
        (long)ScalarType.Byte or (long)ScalarType.Int8 or (long)ScalarType.Bool => 1,
        (long)ScalarType.Int16 or (long)ScalarType.Float16 or (long)ScalarType.BFloat16 => 2,
        (long)ScalarType.Int32 or (long)ScalarType.Float32 => 4,
        (long)ScalarType.Int64 or (long)ScalarType.Float64 or (long)ScalarType.ComplexFloat32 => 8,
        (long)ScalarType.ComplexFloat64 => 16,
        _ => 0,
    };
}
