using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>
/// Runs the pickle of a torch.save file (<c>data.pkl</c>) far enough to find its tensors, in managed code and without
/// executing anything: the few callables a state_dict needs (<c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor_v2</c>, <c>_rebuild_parameter</c>) are recognised by name, any other becomes an
/// opaque value, and storages become <see cref="PickledStorage"/> records whose bytes are read later. Every length is
/// checked against the bytes left and no count read from the file sizes an allocation, so damaged input gives an
/// <see cref="InvalidDataException"/> naming the file and the byte.
/// </summary>
/// <remarks>
/// Covers the opcodes of pickle protocols 2 to 5 that torch.save and TorchSharp.PyBridge write (dictionaries, tuples,
/// lists, strings, numbers, memo, persistent ids, reduce and build); the text opcodes of protocol 0 are refused.
/// Results: dictionaries as <c>Dictionary&lt;object, object?&gt;</c>, tuples as <c>object?[]</c>, lists as
/// <c>List&lt;object?&gt;</c>, integers as <see cref="long"/>, floats as <see cref="double"/>, strings, byte arrays, bools,
/// null, <see cref="PickledTensor"/> and opaque values.
/// </remarks>
internal sealed class StateDictUnpickler
{
    private readonly byte[] _data;
    private readonly string _path;
    private readonly long _maxStorageBytes;
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private int _position;

    /// <param name="data">The bytes of <c>data.pkl</c>.</param>
    /// <param name="path">The file, for errors.</param>
    /// <param name="maxStorageBytes">No storage can be larger than this (the file's size): a larger declared one is damage.</param>
    public StateDictUnpickler(byte[] data, string path, long maxStorageBytes)
    {
        _data = data;
        _path = path;
        _maxStorageBytes = maxStorageBytes;
    }

    /// <summary>A value the unpickler does not model: an object of some other class, a big integer, a set.</summary>
    private sealed record Opaque(string What);

    /// <summary>A reference to a module attribute (GLOBAL): a class or a function.</summary>
    private sealed record Global(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    /// <summary>Runs the pickle to its STOP and returns the value it leaves.</summary>
    /// <exception cref="InvalidDataException">The pickle is truncated, damaged, or uses what a state_dict never does.</exception>
    public object? Load()
    {
        while (true)
        {
            int at = _position;
            byte op = Take(1, "an opcode")[0];
            switch (op)
            {
                case 0x80: // PROTO
                    byte version = Take(1, "the protocol version")[0];
                    if (version > 5)
                        throw Damaged($"declares pickle protocol {version}; at most 5 exists", at);
                    break;
                case 0x95: // FRAME: a length hint only
                    Take(8, "a frame length");
                    break;
                case (byte)'.': // STOP
                    return Pop(at);
                case (byte)'(': // MARK
                    _marks.Push(_stack.Count);
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(Array.Empty<object?>());
                    break;
                case (byte)'t': // TUPLE
                    Push(PopMark(at).ToArray());
                    break;
                case 0x85: // TUPLE1
                    Push(new[] { Pop(at) });
                    break;
                case 0x86: // TUPLE2
                {
                    var b = Pop(at);
                    var a = Pop(at);
                    Push(new[] { a, b });
                    break;
                }
                case 0x87: // TUPLE3
                {
                    var c = Pop(at);
                    var b = Pop(at);
                    var a = Pop(at);
                    Push(new[] { a, b, c });
                    break;
                }
                case (byte)']': // EMPTY_LIST
                case 0x8f: // EMPTY_SET (kept as a list: only its presence matters)
                    Push(new List<object?>());
                    break;
                case (byte)'l': // LIST
                case 0x91: // FROZENSET
                    Push(PopMark(at));
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new Dictionary<object, object?>());
                    break;
                case (byte)'d': // DICT
                {
                    var dictionary = new Dictionary<object, object?>();
                    SetItems(dictionary, PopMark(at), at);
                    Push(dictionary);
                    break;
                }
                case (byte)'s': // SETITEM
                {
                    var value = Pop(at);
                    var key = Pop(at);
                    SetItems(Peek(at), [key, value], at);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark(at);
                    SetItems(Peek(at), items, at);
                    break;
                }
                case (byte)'a': // APPEND
                {
                    var value = Pop(at);
                    Append(Peek(at), [value], at);
                    break;
                }
                case (byte)'e': // APPENDS
                case 0x90: // ADDITEMS
                {
                    var items = PopMark(at);
                    Append(Peek(at), items, at);
                    break;
                }
                case (byte)'0': // POP
                    Pop(at);
                    break;
                case (byte)'1': // POP_MARK
                    PopMark(at);
                    break;
                case (byte)'2': // DUP
                    Push(Peek(at));
                    break;
                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'K': // BININT1
                    Push((long)Take(1, "an integer")[0]);
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2, "an integer")));
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4, "an integer")));
                    break;
                case 0x8a: // LONG1
                {
                    var bytes = Take(Take(1, "the length of an integer")[0], "an integer");
                    Push(bytes.Length <= 8 ? LittleEndianSigned(bytes) : (object)new Opaque("an integer wider than 64 bits"));
                    break;
                }
                case 0x8b: // LONG4
                    Take(Length(4, "the length of an integer", at), "an integer");
                    Push(new Opaque("an integer wider than 64 bits"));
                    break;
                case (byte)'G': // BINFLOAT
                    Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8, "a float")));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(Utf8(Take(Length(4, "the length of a string", at), "a string"), at));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(Utf8(Take(Take(1, "the length of a string")[0], "a string"), at));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(Utf8(Take(Length(8, "the length of a string", at), "a string"), at));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(Encoding.Latin1.GetString(Take(Take(1, "the length of a string")[0], "a string")));
                    break;
                case (byte)'T': // BINSTRING
                    Push(Encoding.Latin1.GetString(Take(Length(4, "the length of a string", at), "a string")));
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(Take(Take(1, "the length of bytes")[0], "bytes").ToArray());
                    break;
                case (byte)'B': // BINBYTES
                    Push(Take(Length(4, "the length of bytes", at), "bytes").ToArray());
                    break;
                case 0x8e: // BINBYTES8
                    Push(Take(Length(8, "the length of bytes", at), "bytes").ToArray());
                    break;
                case (byte)'c': // GLOBAL
                {
                    string module = Line(at);
                    Push(new Global(module, Line(at)));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop(at);
                    var module = Pop(at);
                    if (module is not string m || name is not string n)
                        throw Damaged("has a STACK_GLOBAL whose module or name is not a string", at);
                    Push(new Global(m, n));
                    break;
                }
                case (byte)'q': // BINPUT
                    _memo[Take(1, "a memo index")[0]] = Peek(at);
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "a memo index"))] = Peek(at);
                    break;
                case 0x94: // MEMOIZE
                    _memo[_memo.Count] = Peek(at);
                    break;
                case (byte)'h': // BINGET
                    Push(Recall(Take(1, "a memo index")[0], at));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "a memo index")), at));
                    break;
                case (byte)'Q': // BINPERSID
                    Push(Storage(Pop(at), at));
                    break;
                case (byte)'R': // REDUCE
                {
                    var arguments = Pop(at);
                    var callable = Pop(at);
                    Push(Reduce(callable, arguments, at));
                    break;
                }
                case 0x81: // NEWOBJ
                {
                    Pop(at);
                    Push(new Opaque($"an object of {Pop(at)}"));
                    break;
                }
                case 0x92: // NEWOBJ_EX
                {
                    Pop(at);
                    Pop(at);
                    Push(new Opaque($"an object of {Pop(at)}"));
                    break;
                }
                case (byte)'b': // BUILD: sets an object's state; the tensors are already complete
                    Pop(at);
                    Peek(at);
                    break;
                default:
                    throw Damaged($"has opcode 0x{op:x2}, which is not one a state_dict pickle uses", at);
            }
        }
    }

    /// <summary>What the persistent id of a storage names: <c>('storage', torch.FloatStorage, key, location, count)</c>.</summary>
    private PickledStorage Storage(object? id, int at)
    {
        if (id is not object?[] { Length: >= 5 } parts || parts[0] is not "storage" || parts[1] is not Global type
            || parts[2] is not (string or long) || parts[4] is not long count)
            throw Damaged("has a persistent id that is not ('storage', type, key, location, count)", at);
        int size = type.Name switch
        {
            "FloatStorage" or "IntStorage" => 4,
            "DoubleStorage" or "LongStorage" => 8,
            "HalfStorage" or "BFloat16Storage" or "ShortStorage" => 2,
            "ByteStorage" or "CharStorage" or "BoolStorage" => 1,
            _ => throw Damaged($"has a storage of type {type}; float, double, half, bfloat16, integer and bool storages are supported", at),
        };
        if (count < 0 || count > _maxStorageBytes / size)
            throw Damaged($"declares a storage of {count} {type.Name} elements, more than the file can hold", at);
        string key = parts[2] is string s ? s : ((long)parts[2]!).ToString(CultureInfo.InvariantCulture);
        return new PickledStorage(key, type.Name, size, count);
    }

    private object? Reduce(object? callable, object? arguments, int at)
    {
        if (arguments is not object?[] args)
            throw Damaged("calls a function with arguments that are not a tuple", at);
        if (callable is not Global function)
            return new Opaque("the result of a call");
        switch (function.Module, function.Name)
        {
            case ("collections", "OrderedDict"):
                return new Dictionary<object, object?>();
            case ("torch._utils", "_rebuild_tensor" or "_rebuild_tensor_v2"):
                if (args is not [PickledStorage storage, long offset, object?[] shape, object?[] stride, ..])
                    throw Damaged($"calls {function} with arguments other than (storage, offset, shape, stride, ...)", at);
                return new PickledTensor(storage, offset, Longs(shape, "shape", at), Longs(stride, "stride", at));
            case ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state"):
                return args is [PickledTensor tensor, ..] ? tensor : throw Damaged($"calls {function} without a tensor", at);
            default:
                return new Opaque($"the result of {function}");
        }
    }

    private long[] Longs(object?[] values, string what, int at)
    {
        var result = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = values[i] is long v ? v : throw Damaged($"has a tensor {what} with a value that is not an integer", at);
        return result;
    }

    private void SetItems(object? target, List<object?> items, int at)
    {
        if (items.Count % 2 != 0)
            throw Damaged("sets dictionary items from an odd number of values", at);
        if (target is Opaque)
            return;
        if (target is not Dictionary<object, object?> dictionary)
            throw Damaged("sets dictionary items on something that is not a dictionary", at);
        for (int i = 0; i < items.Count; i += 2)
            if (items[i] is { } key)
                dictionary[key] = items[i + 1];
    }

    private void Append(object? target, List<object?> items, int at)
    {
        if (target is List<object?> list)
            list.AddRange(items);
        else if (target is not Opaque)
            throw Damaged("appends to something that is not a list", at);
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Peek(int at) =>
        _stack.Count > (_marks.Count > 0 ? _marks.Peek() : 0) ? _stack[^1] : throw Damaged("reads a value from an empty stack", at);

    private object? Pop(int at)
    {
        var value = Peek(at);
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PopMark(int at)
    {
        if (_marks.Count == 0)
            throw Damaged("closes a MARK that was never set", at);
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Recall(long index, int at) =>
        _memo.TryGetValue(index, out var value) ? value : throw Damaged($"recalls memo entry {index}, which was never stored", at);

    /// <summary>A length field of <paramref name="bytes"/> bytes, which must fit in what is left.</summary>
    private int Length(int bytes, string what, int at)
    {
        var field = Take(bytes, what);
        ulong value = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(field) : BinaryPrimitives.ReadUInt64LittleEndian(field);
        if (value > (ulong)(_data.Length - _position))
            throw Truncated($"{what} ({value} bytes)", at);
        return (int)value;
    }

    /// <summary>A newline-terminated line of GLOBAL (a module or attribute name).</summary>
    private string Line(int at)
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position, Math.Min(_data.Length - _position, 1024));
        if (end < 0)
            throw Truncated("a GLOBAL name", at);
        string line = Encoding.UTF8.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private string Utf8(ReadOnlySpan<byte> bytes, int at)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Damaged("has a string that is not valid UTF-8", at);
        }
    }

    private static long LittleEndianSigned(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
            return 0;
        Span<byte> wide = stackalloc byte[8];
        wide.Fill((bytes[^1] & 0x80) != 0 ? (byte)0xFF : (byte)0);
        bytes.CopyTo(wide);
        return BinaryPrimitives.ReadInt64LittleEndian(wide);
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > _data.Length - _position)
            throw Truncated(what, _position);
        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private InvalidDataException Damaged(string reason, int at) =>
        new($"'{_path}' is not a valid torch.save state_dict: its pickle (data.pkl) {reason} (byte {at} of {_data.Length}).");

    private InvalidDataException Truncated(string what, int at) =>
        new($"'{_path}' is truncated or damaged: its pickle (data.pkl) ends inside {what} at byte {at} ({_data.Length} bytes).");
}
