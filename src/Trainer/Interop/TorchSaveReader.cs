using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>
/// Reads the tensors of a torch.save file (a zip of <c>&lt;name&gt;/data.pkl</c> and one <c>&lt;name&gt;/data/&lt;key&gt;</c>
/// entry per storage) as float32 arrays, entirely in managed code: the pickle is run by <see cref="StateDictUnpickler"/>,
/// every storage is checked against the size the pickle declares, and every view (offset, shape, stride) against its
/// storage before an element is copied. Nothing from the file reaches libtorch before it has been checked, so a damaged
/// file gives an <see cref="InvalidDataException"/> naming it, never a native crash or a huge allocation.
/// </summary>
internal static class TorchSaveReader
{
    private const string Expected = "a PyTorch state_dict saved with torch.save (zip-pickle format)";

    /// <summary>The tensors of the state_dict at <paramref name="path"/> by key, converted to float32.</summary>
    /// <remarks>A dictionary that wraps the state_dict under "state_dict" or "model" is unwrapped; values that are not tensors are skipped.</remarks>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a torch.save zip, or is truncated or damaged.</exception>
    public static Dictionary<string, NamedTensorData> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"PyTorch checkpoint '{path}' does not exist.", path);
        long fileLength = new FileInfo(path).Length;
        RefuseLegacyFormat(path);
        using var zip = UntrustedZip.Open(path, Expected);

        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
            if (!entries.TryAdd(entry.FullName, entry))
                throw new InvalidDataException($"'{path}' is damaged: zip entry '{entry.FullName}' appears twice.");
        var pickles = entries.Keys.Where(n => n == "data.pkl" || n.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
        if (pickles.Count != 1)
            throw new InvalidDataException($"'{path}' holds {pickles.Count} data.pkl entries; expected one in {Expected}.");
        string root = pickles[0][..^"data.pkl".Length];
        if (entries.TryGetValue(root + "byteorder", out var byteOrder) && zip.Read(byteOrder) is var order
            && !order.AsSpan().SequenceEqual("little"u8))
            throw new InvalidDataException($"'{path}' was saved on a big-endian machine; only little-endian checkpoints are supported.");

        object? top = new StateDictUnpickler(zip.Read(entries[pickles[0]]), path, fileLength).Load();
        if (top is not Dictionary<object, object?> dictionary)
            throw new InvalidDataException($"'{path}' holds a pickled {Describe(top)}, not a state_dict (a dictionary of tensors).");
        foreach (var wrapper in new[] { "state_dict", "model" })
            if (dictionary.TryGetValue(wrapper, out var inner) && inner is Dictionary<object, object?> unwrapped)
                dictionary = unwrapped;

        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var result = new Dictionary<string, NamedTensorData>(StringComparer.Ordinal);
        foreach (var (key, value) in dictionary)
        {
            if (key is not string name || value is not PickledTensor tensor)
                continue; // e.g. a stored epoch number next to the weights
            var storage = tensor.Storage;
            if (!storages.TryGetValue(storage.Key, out var bytes))
            {
                if (!entries.TryGetValue(root + "data/" + storage.Key, out var entry))
                    throw new InvalidDataException($"'{path}' is damaged: tensor '{name}' uses storage '{storage.Key}', but there is no entry {root}data/{storage.Key}.");
                storages[storage.Key] = bytes = zip.Read(entry);
            }
            result[name] = Elements(path, name, tensor, bytes);
        }
        return result;
    }

    /// <summary>Files of torch.save before PyTorch 1.6 (or with <c>_use_new_zipfile_serialization=False</c>) are a bare pickle.</summary>
    private static void RefuseLegacyFormat(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using (var stream = File.OpenRead(path))
            head = head[..stream.ReadAtLeast(head, 4, throwOnEndOfStream: false)];
        if (!head.SequenceEqual("PK\u0003\u0004"u8))
            throw new InvalidDataException(
                $"'{path}' is not {Expected}: it is not a zip file. Files saved by PyTorch before 1.6, or with " +
                "_use_new_zipfile_serialization=False, are not supported: load and save them again with a recent PyTorch.");
    }

    /// <summary>The elements <paramref name="tensor"/> views in <paramref name="bytes"/>, in row-major order, as float32.</summary>
    private static NamedTensorData Elements(string path, string name, PickledTensor tensor, byte[] bytes)
    {
        var storage = tensor.Storage;
        string what = $"'{path}' is damaged: tensor '{name}'";
        if (bytes.Length != storage.ElementCount * storage.ElementSize)
            throw new InvalidDataException(
                $"{what} uses storage '{storage.Key}', declared as {storage.ElementCount} {storage.TypeName} elements, but the entry holds {bytes.Length} bytes.");
        long[] shape = tensor.Shape, stride = tensor.Stride;
        if (shape.Length != stride.Length || shape.Any(d => d < 0) || stride.Any(s => s < 0) || tensor.StorageOffset < 0)
            throw new InvalidDataException(
                $"{what} has shape [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}] and offset {tensor.StorageOffset}; " +
                "expected as many non-negative strides as dimensions of non-negative size.");
        // Bounded by the storage at every step, so neither product can overflow; the last element viewed must be in the storage.
        long count = 1, last = tensor.StorageOffset;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 0)
            {
                count = 0;
                break;
            }
            if (count > storage.ElementCount / shape[i] || (shape[i] - 1) > 0 && stride[i] > (storage.ElementCount - last) / (shape[i] - 1))
                throw OutOfStorage(what, tensor);
            count *= shape[i];
            last += (shape[i] - 1) * stride[i];
        }
        if (count > 0 && last >= storage.ElementCount)
            throw OutOfStorage(what, tensor);

        var values = new float[count];
        if (count == 0)
            return new NamedTensorData(values, shape);
        var read = ElementReader(storage.TypeName);
        if (IsContiguous(shape, stride))
        {
            if (storage.TypeName == "FloatStorage")
                MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)(tensor.StorageOffset * 4), (int)count * 4)).CopyTo(values);
            else
                for (long i = 0; i < count; i++)
                    values[i] = read(bytes, tensor.StorageOffset + i);
            return new NamedTensorData(values, shape);
        }
        var index = new long[shape.Length];
        for (long i = 0; i < count; i++)
        {
            long at = tensor.StorageOffset;
            for (int d = 0; d < shape.Length; d++)
                at += index[d] * stride[d];
            values[i] = read(bytes, at);
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--)
                index[d] = 0;
        }
        return new NamedTensorData(values, shape);
    }

    private static InvalidDataException OutOfStorage(string what, PickledTensor tensor) =>
        new($"{what} views [{string.Join(", ", tensor.Shape)}] with stride [{string.Join(", ", tensor.Stride)}] from offset " +
            $"{tensor.StorageOffset}, past the end of its storage '{tensor.Storage.Key}' ({tensor.Storage.ElementCount} elements).");

    private static bool IsContiguous(long[] shape, long[] stride)
    {
        long expected = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && stride[d] != expected)
                return false;
            expected *= shape[d];
        }
        return true;
    }

    private delegate float ReadElement(byte[] bytes, long index);

    private static ReadElement ElementReader(string typeName) => typeName switch
    {
        "FloatStorage" => (b, i) => BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan((int)(i * 4))),
        "DoubleStorage" => (b, i) => (float)BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan((int)(i * 8))),
        "HalfStorage" => (b, i) => (float)BinaryPrimitives.ReadHalfLittleEndian(b.AsSpan((int)(i * 2))),
        "BFloat16Storage" => (b, i) => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)(i * 2))) << 16),
        "LongStorage" => (b, i) => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan((int)(i * 8))),
        "IntStorage" => (b, i) => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan((int)(i * 4))),
        "ShortStorage" => (b, i) => BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan((int)(i * 2))),
        "CharStorage" => (b, i) => (sbyte)b[i],
        "ByteStorage" => (b, i) => b[i],
        "BoolStorage" => (b, i) => b[i] != 0 ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(typeName), typeName, "Not a storage type the unpickler accepts."),
    };

    private static string Describe(object? value) => value switch
    {
        null => "None",
        PickledTensor => "tensor",
        object?[] => "tuple",
        List<object?> => "list",
        string => "string",
        long or double or bool => "number",
        _ => "object",
    };
}
