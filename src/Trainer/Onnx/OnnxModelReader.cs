using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Reads back what training needs from an ONNX <c>ModelProto</c>: metadata, input and output names and the
/// float32 initializers. Hand-written against the field numbers of onnx.proto, like
/// <see cref="OnnxModelSerializer"/>; fields it does not need (nodes, attributes, newer additions) are skipped.
/// </summary>
public static class OnnxModelReader
{
    private const int FloatDataType = 1;
    private const int ExternalDataLocation = 1;

    /// <summary>Reads and parses the ONNX model file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not an ONNX model, is truncated, or holds an initializer that cannot be read; the message names the
    /// file and the problem.
    /// </exception>
    public static OnnxModelContents ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"There is no ONNX model at '{path}'.", path);
        var info = new FileInfo(path);
        if (info.Length > Array.MaxLength)
            throw new InvalidDataException($"'{path}' is {info.Length} bytes long; ONNX models of more than 2 GB keep their weights outside and are not supported.");
        return Read(File.ReadAllBytes(path), $"'{path}'");
    }

    /// <summary>Parses <paramref name="model"/>, the bytes of an ONNX model file.</summary>
    /// <param name="model">The serialized <c>ModelProto</c>.</param>
    /// <param name="source">What the bytes are (e.g. a file name), for error messages; null for "The ONNX model".</param>
    /// <exception cref="InvalidDataException">
    /// The bytes are not an ONNX model, are truncated, or hold an initializer that cannot be read (external
    /// data, a data length that does not match its shape); the message names the source and the problem.
    /// </exception>
    public static OnnxModelContents Read(byte[] model, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        source ??= "The ONNX model";
        if (model.Length == 0)
            throw new InvalidDataException($"{source} is not an ONNX model: it is empty.");
        try
        {
            return ReadModel(new ProtoMessageReader(model, 0, model.Length, source, "ModelProto"), source);
        }
        catch (InvalidProtocolBufferException e)
        {
            // The stream only throws this when a varint or fixed-size value runs past the end of its message
            // (truncation) or for invalid tags/varints (not protobuf at all).
            throw new InvalidDataException($"{source} is not an ONNX model, or is truncated: {e.Message}", e);
        }
    }

    /// <summary>The onnx.proto name of a <c>TensorProto.DataType</c> code, for messages.</summary>
    internal static string DataTypeName(int type) => type switch
    {
        1 => "float32", 2 => "uint8", 3 => "int8", 4 => "uint16", 5 => "int16", 6 => "int32", 7 => "int64",
        8 => "string", 9 => "bool", 10 => "float16", 11 => "float64", 12 => "uint32", 13 => "uint64",
        16 => "bfloat16", _ => "unknown",
    };

    private static OnnxModelContents ReadModel(ProtoMessageReader m, string source)
    {
        long irVersion = 0;
        string producerName = "", producerVersion = "";
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var graph = new GraphParts();
        bool hasGraph = false;
        while (m.Next())
        {
            switch (m.Field)
            {
                case 1: irVersion = m.Int64(); break;
                case 2: producerName = m.String(); break;
                case 3: producerVersion = m.String(); break;
                case 7: ReadGraph(m.Message("GraphProto"), graph, source); hasGraph = true; break;
                case 14: ReadMetadataEntry(m.Message("StringStringEntryProto"), metadata, m); break;
                default: m.Skip(); break;
            }
        }
        // Any byte string with valid-looking varints parses as *some* protobuf; these two make it a model.
        if (irVersion <= 0)
            throw m.Invalid("it has no ir_version");
        if (!hasGraph)
            throw m.Invalid("it has no graph");
        return new OnnxModelContents(source, irVersion, producerName, producerVersion, metadata,
            graph.Inputs, graph.Outputs, graph.DataTypes, graph.Floats);
    }

    private static void ReadMetadataEntry(ProtoMessageReader e, Dictionary<string, string> metadata, ProtoMessageReader model)
    {
        string key = "", value = "";
        while (e.Next())
        {
            switch (e.Field)
            {
                case 1: key = e.String(); break;
                case 2: value = e.String(); break;
                default: e.Skip(); break;
            }
        }
        if (!metadata.TryAdd(key, value))
            throw model.Invalid($"metadata key '{key}' appears twice");
    }

    private sealed class GraphParts
    {
        public readonly List<string> Inputs = new();
        public readonly List<string> Outputs = new();
        public readonly Dictionary<string, int> DataTypes = new(StringComparer.Ordinal);
        public readonly Dictionary<string, NamedTensorData> Floats = new(StringComparer.Ordinal);
    }

    private static void ReadGraph(ProtoMessageReader g, GraphParts graph, string source)
    {
        while (g.Next())
        {
            switch (g.Field)
            {
                case 5: ReadInitializer(g.Message("TensorProto"), graph, source); break;
                case 11: graph.Inputs.Add(ValueInfoName(g.Message("ValueInfoProto"))); break;
                case 12: graph.Outputs.Add(ValueInfoName(g.Message("ValueInfoProto"))); break;
                default: g.Skip(); break;
            }
        }
    }

    private static string ValueInfoName(ProtoMessageReader v)
    {
        string name = "";
        while (v.Next())
        {
            if (v.Field == 1) name = v.String();
            else v.Skip();
        }
        return name;
    }

    private static void ReadInitializer(ProtoMessageReader t, GraphParts graph, string source)
    {
        var dims = new List<long>();
        var floatData = new List<float>();
        bool hasFloatData = false;
        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        int dataType = 0;
        long location = 0;
        string name = "";
        while (t.Next())
        {
            switch (t.Field)
            {
                case 1: t.Int64s(dims); break;
                case 2: dataType = (int)t.Int64(); break;
                case 4: t.Floats(floatData); hasFloatData = true; break;
                case 8: name = t.String(); break;
                case 9: raw = t.Bytes(); hasRaw = true; break; // a view: copied once, below
                case 14: location = t.Int64(); break;
                default: t.Skip(); break;
            }
        }

        string what = $"{source}: initializer '{name}'";
        if (!graph.DataTypes.TryAdd(name, dataType))
            throw new InvalidDataException($"{what} appears twice; initializer names must be unique.");
        if (dataType != FloatDataType)
            return; // kept by name and type only: GetFloat/StateDict report it if a caller expected a float
        if (location == ExternalDataLocation)
            throw new InvalidDataException($"{what} keeps its data in an external file, which is not supported; save the model with its weights inside.");
        if (dims.Any(d => d < 0))
            throw new InvalidDataException($"{what} has shape [{string.Join(", ", dims)}], with a negative dimension.");

        // Dimensions come from the file: their product may overflow, and then it is not a shape any data can have.
        long count = 1;
        foreach (long d in dims)
        {
            if (d != 0 && count > long.MaxValue / sizeof(float) / d)
                throw new InvalidDataException($"{what} has shape [{string.Join(", ", dims)}], with more elements than any file can hold.");
            count *= d;
        }
        float[] data;
        if (hasRaw)
        {
            if (hasFloatData)
                throw new InvalidDataException($"{what} has both raw_data and float_data; ONNX allows one.");
            if (raw.Length != count * sizeof(float))
                throw new InvalidDataException($"{what} has {raw.Length} bytes of raw_data; float32[{string.Join(", ", dims)}] needs {count * sizeof(float)}.");
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("ONNX raw_data is little-endian; reading it on a big-endian machine is not supported.");
            data = MemoryMarshal.Cast<byte, float>(raw).ToArray();
        }
        else
        {
            if (floatData.Count != count)
                throw new InvalidDataException($"{what} has {floatData.Count} values in float_data; float32[{string.Join(", ", dims)}] needs {count}.");
            data = floatData.ToArray();
        }
        graph.Floats.Add(name, new NamedTensorData(data, dims.ToArray()));
    }
}
