using System.Runtime.InteropServices;
using Google.Protobuf;
using WireType = Google.Protobuf.WireFormat.WireType;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Writes an <see cref="OnnxGraphBuilder"/> as an ONNX <c>ModelProto</c> in protobuf wire format.
/// Hand-written against the field numbers of onnx.proto (stable since ONNX 1.0), so the project needs
/// no generated ONNX classes. Nested messages are written to a buffer first to learn their length.
/// </summary>
internal static class OnnxModelSerializer
{
    /// <summary>The ONNX IR version that goes with each default-domain opset we allow.</summary>
    public static long IrVersionFor(int opset) => opset switch
    {
        17 or 18 => 8,
        19 or 20 => 9,
        _ => 10,
    };

    /// <summary>The producer_name every model of ours carries; readers use it to recognise our models.</summary>
    public const string ProducerName = "Microsoft.ML.CompactTransformer";

    public static byte[] Serialize(OnnxGraphBuilder graph, string graphName, int opset, string producerVersion,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        return Message(o =>
        {
            o.WriteTag(1, WireType.Varint); o.WriteInt64(IrVersionFor(opset));           // ir_version
            WriteString(o, 2, ProducerName);                                             // producer_name
            WriteString(o, 3, producerVersion);                                          // producer_version
            WriteMessage(o, 7, g => WriteGraph(g, graph, graphName));                    // graph
            WriteMessage(o, 8, s => { WriteString(s, 1, ""); WriteInt64(s, 2, opset); }); // opset_import
            if (graph.UsesMlDomain)
                WriteMessage(o, 8, s => { WriteString(s, 1, OnnxGraphBuilder.MlDomain); WriteInt64(s, 2, 2); });
            // metadata_props, in key order so that equal settings give equal bytes.
            foreach (var (key, value) in (metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
                WriteMessage(o, 14, e => { WriteString(e, 1, key); WriteString(e, 2, value); });
        });
    }

    private static void WriteGraph(CodedOutputStream o, OnnxGraphBuilder graph, string name)
    {
        foreach (var node in graph.Nodes)
            WriteMessage(o, 1, n => WriteNode(n, node));
        WriteString(o, 2, name);
        foreach (var init in graph.Initializers)
            WriteMessage(o, 5, t => WriteTensor(t, init));
        foreach (var input in graph.Inputs)
            WriteMessage(o, 11, v => WriteValueInfo(v, input));
        foreach (var output in graph.Outputs)
            WriteMessage(o, 12, v => WriteValueInfo(v, output));
    }

    private static void WriteNode(CodedOutputStream o, OnnxNode node)
    {
        foreach (var input in node.Inputs)
            WriteString(o, 1, input);
        foreach (var output in node.Outputs)
            WriteString(o, 2, output);
        WriteString(o, 3, node.Name);
        WriteString(o, 4, node.OpType);
        foreach (var attribute in node.Attributes)
            WriteMessage(o, 5, a => WriteAttribute(a, attribute));
        if (node.Domain.Length > 0)
            WriteString(o, 7, node.Domain);
    }

    private static void WriteAttribute(CodedOutputStream o, OnnxAttribute a)
    {
        WriteString(o, 1, a.Name);
        switch (a.Kind)
        {
            case OnnxAttribute.AttributeKind.Float:
                o.WriteTag(2, WireType.Fixed32); o.WriteFloat(a.FloatValue);
                break;
            case OnnxAttribute.AttributeKind.Int:
                WriteInt64(o, 3, a.IntValue);
                break;
            case OnnxAttribute.AttributeKind.String:
                WriteString(o, 4, a.StringValue!);
                break;
            case OnnxAttribute.AttributeKind.Ints:
                foreach (long v in a.IntValues!)
                    WriteInt64(o, 8, v); // unpacked: accepted by every protobuf parser
                break;
            case OnnxAttribute.AttributeKind.Strings:
                foreach (string s in a.StringValues!)
                    WriteString(o, 9, s);
                break;
        }
        WriteInt64(o, 20, (long)a.Kind); // type
    }

    private static void WriteTensor(CodedOutputStream o, OnnxInitializer t)
    {
        foreach (long d in t.Dims)
            WriteInt64(o, 1, d);                          // dims
        WriteInt64(o, 2, (long)t.DataType);              // data_type
        if (t.Strings is not null)
            foreach (string s in t.Strings)
                WriteString(o, 6, s);                    // string_data
        WriteString(o, 8, t.Name);                       // name
        // raw_data: little-endian, as ONNX prescribes; avoids one varint per value.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; exporting on a big-endian machine is not supported.");
        if (t.Floats is not null)
            WriteBytes(o, 9, MemoryMarshal.AsBytes(t.Floats.AsSpan()).ToArray());
        else if (t.Int64s is not null)
            WriteBytes(o, 9, MemoryMarshal.AsBytes(t.Int64s.AsSpan()).ToArray());
    }

    private static void WriteValueInfo(CodedOutputStream o, OnnxValueInfo v)
    {
        WriteString(o, 1, v.Name);
        WriteMessage(o, 2, type =>                                    // TypeProto
            WriteMessage(type, 1, tensor =>                           // tensor_type
            {
                WriteInt64(tensor, 1, (long)v.ElementType);          // elem_type
                WriteMessage(tensor, 2, shape =>                      // TensorShapeProto
                {
                    for (int i = 0; i < v.Dims.Count; i++)
                    {
                        string? symbol = v.SymbolicDims?[i];
                        WriteMessage(shape, 1, dim =>                 // Dimension
                        {
                            if (symbol is null) WriteInt64(dim, 1, v.Dims[i]); // dim_value
                            else WriteString(dim, 2, symbol);                  // dim_param
                        });
                    }
                });
            }));
    }

    // ---- wire-format helpers ----

    private static byte[] Message(Action<CodedOutputStream> body)
    {
        using var buffer = new MemoryStream();
        using (var o = new CodedOutputStream(buffer, leaveOpen: true))
            body(o);
        return buffer.ToArray();
    }

    private static void WriteMessage(CodedOutputStream o, int field, Action<CodedOutputStream> body)
    {
        byte[] bytes = Message(body);
        WriteBytes(o, field, bytes);
    }

    private static void WriteBytes(CodedOutputStream o, int field, byte[] bytes)
    {
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes)); // no copy: the array is ours and not reused
    }

    private static void WriteString(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireType.LengthDelimited);
        o.WriteString(value);
    }

    private static void WriteInt64(CodedOutputStream o, int field, long value)
    {
        o.WriteTag(field, WireType.Varint);
        o.WriteInt64(value);
    }
}
