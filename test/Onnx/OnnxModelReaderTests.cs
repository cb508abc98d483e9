using System.Runtime.InteropServices;
using Microsoft.ML.CompactTransformer.Onnx;
using Xunit;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>Metadata in the exported ONNX, and reading weights, metadata and names back from the bytes.</summary>
public class OnnxModelReaderTests
{
    internal static readonly Dictionary<string, string> Metadata = new()
    {
        ["cct.architecture"] = "cct_2_3x2_32",
        ["cct.note"] = "ünïcödé ✓, \"quotes\" and\nnewlines",
        ["cct.empty"] = "",
    };

    public static TheoryData<string> Fixtures => new(ReferenceFixture.Names.ToArray());

    [Fact]
    public void OnnxRuntimeSeesTheMetadata()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, new OnnxExportSettings { Metadata = Metadata });

        using var session = OrtRunner.Session(model);
        var custom = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(Metadata.OrderBy(p => p.Key), custom.OrderBy(p => p.Key));
        Assert.Equal("Microsoft.ML.CompactTransformer", session.ModelMetadata.ProducerName);
    }

    [Fact]
    public void NoMetadataWritesNone()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, new OnnxExportSettings());

        using var session = OrtRunner.Session(model);
        Assert.Empty(session.ModelMetadata.CustomMetadataMap);
        Assert.Empty(OnnxModelReader.Read(model).Metadata);
    }

    [Fact]
    public void NullMetadataValueIsRejected()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        var settings = new OnnxExportSettings { Metadata = new Dictionary<string, string> { ["cct.x"] = null! } };

        var e = Assert.Throws<ArgumentException>(() => CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, settings));
        Assert.Contains("Metadata['cct.x'] is null", e.Message);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void WeightsAndMetadataRoundTripBitForBit(string name)
    {
        var f = ReferenceFixture.Load(name);
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing,
            new OnnxExportSettings { Metadata = Metadata, ClassNames = ClassNames(f.Architecture.NumClasses), Mean = Ones(f), Std = Halves(f) });

        var read = OnnxModelReader.Read(model);

        AssertSameStateDict(f.StateDict, read.StateDict());
        Assert.Equal(Metadata.OrderBy(p => p.Key), read.Metadata.OrderBy(p => p.Key));
        Assert.True(read.IsCompactTransformerModel);
        Assert.True(read.IrVersion >= 8, $"ir_version {read.IrVersion}");
        Assert.Equal(new[] { "Features" }, read.InputNames);
        // With class names, the graph also outputs the LabelEncoder that carries them to ML.NET as slot names.
        Assert.Equal(new[] { "Score", "PredictedIndex", "mlnet.Score.unusedOutput" }, read.OutputNames);
        // The exporter's own constants are there, but are not weights.
        Assert.Equal(Ones(f), read.GetFloat("input.mean").Data);
        Assert.Equal(7, read.InitializerDataTypes.First(p => p.Key.StartsWith("const_i64", StringComparison.Ordinal)).Value);
        Assert.Equal(8, read.InitializerDataTypes["mlnet.Score.unusedInput"]);
    }

    [Fact]
    public void ANonFloatInitializerIsReportedWhereAFloatWasExpected()
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        var read = OnnxModelReader.Read(CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, new OnnxExportSettings()));
        string int64Name = read.InitializerDataTypes.First(p => p.Value == 7).Key;

        var e = Assert.Throws<InvalidDataException>(() => read.GetFloat(int64Name));
        Assert.Contains($"'{int64Name}'", e.Message);
        Assert.Contains("int64", e.Message);
        Assert.Contains("expected float32", e.Message);
        Assert.Throws<KeyNotFoundException>(() => read.GetFloat("no.such.weight"));

        // A weight-named initializer of another type makes StateDict fail rather than drop it.
        byte[] model = Model(graph => graph.Message(5, t => t.PackedInt64s(1, 2).Varint(2, 7).String(8, "classifier.fc.bias").PackedInt64s(7, 1, 2)));
        var bad = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(model, "bad.onnx").StateDict());
        Assert.Contains("bad.onnx", bad.Message);
        Assert.Contains("'classifier.fc.bias'", bad.Message);
        Assert.Contains("expected float32", bad.Message);
    }

    [Fact]
    public void FloatDataPackedOrNotAndUnknownFieldsAreRead()
    {
        byte[] model = Model(graph => graph
                .Varint(1234, 5)                                          // unknown field in GraphProto
                .Message(5, t => t                                        // float_data, packed; dims packed
                    .PackedInt64s(1, 2, 2).Varint(2, 1).String(8, "classifier.a").PackedFloats(4, 1f, -2f, 3.5f, float.Epsilon))
                .Message(5, t => t                                        // float_data unpacked; dims unpacked
                    .Varint(1, 3).Varint(2, 1).Fixed32(4, 0.25f).Fixed32(4, -0f).Fixed32(4, float.NaN).String(8, "classifier.b")
                    .String(12, "a doc string").Fixed64(99, 42))
                .Message(5, t => t.Varint(1, 0).Varint(2, 1).String(8, "tokenizer.empty"))   // zero-size: no data at all
                .Message(11, v => v.String(1, "X").Message(2, _ => { }))
                .Message(12, v => v.String(1, "Y")),
            model => model
                .String(4, "domain").Fixed64(777, 1).Bytes(888, new byte[] { 1, 2, 3 })
                .Message(14, e => e.String(1, "k").String(2, "v")));

        var read = OnnxModelReader.Read(model);

        Assert.Equal(new[] { 1f, -2f, 3.5f, float.Epsilon }, read.GetFloat("classifier.a").Data);
        Assert.Equal(new long[] { 2, 2 }, read.GetFloat("classifier.a").Shape);
        float[] b = read.GetFloat("classifier.b").Data;
        Assert.Equal(new uint[] { 0x3E800000, 0x80000000, BitConverter.SingleToUInt32Bits(float.NaN) }, b.Select(BitConverter.SingleToUInt32Bits));
        Assert.Empty(read.GetFloat("tokenizer.empty").Data);
        Assert.Equal(new[] { "classifier.a", "classifier.b", "tokenizer.empty" }, read.StateDict().Keys.Order());
        Assert.Equal(new[] { "X" }, read.InputNames);
        Assert.Equal(new[] { "Y" }, read.OutputNames);
        Assert.Equal("v", read.Metadata["k"]);
        Assert.Equal("other", read.ProducerName);
        Assert.False(read.IsCompactTransformerModel);
    }

    [Fact]
    public void ADataLengthThatDoesNotMatchTheShapeIsReported()
    {
        byte[] model = Model(graph => graph.Message(5, t => t.PackedInt64s(1, 3).Varint(2, 1).String(8, "classifier.w").Bytes(9, new byte[8])));

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(model, "short.onnx"));
        Assert.Contains("short.onnx", e.Message);
        Assert.Contains("'classifier.w' has 8 bytes of raw_data; float32[3] needs 12", e.Message);
    }

    [Fact]
    public void BytesThatAreNotAnOnnxModelAreReportedAsSuch()
    {
        Assert.Contains("is empty", Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(Array.Empty<byte>(), "x.onnx")).Message);

        // Text: 'h' is field 13 with wire type 0, and so on, until an invalid wire type or tag.
        var text = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read("hello, this is not a model"u8.ToArray(), "x.onnx"));
        Assert.Contains("x.onnx is not", text.Message);

        // Valid protobuf, but not a ModelProto.
        byte[] other = new ProtoWriter().String(1, "a string where ir_version (a varint) belongs").ToArray();
        Assert.Contains("field 1 of ModelProto has wire type LengthDelimited", Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(other, "x.onnx")).Message);
        byte[] noIr = new ProtoWriter().String(2, "producer only").ToArray();
        Assert.Contains("it has no ir_version", Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(noIr, "x.onnx")).Message);
        byte[] noGraph = new ProtoWriter().Varint(1, 8).ToArray();
        Assert.Contains("it has no graph", Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(noGraph, "x.onnx")).Message);
    }

    [Theory]
    [InlineData(3)]        // inside the producer_name field's header
    [InlineData(0.5)]      // inside the graph
    [InlineData(-1)]       // one byte short
    public void TruncatedBytesAreReportedAsTruncated(double cut)
    {
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        byte[] model = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, new OnnxExportSettings { Metadata = Metadata });
        int length = cut switch { < 0 => model.Length + (int)cut, < 1 => (int)(model.Length * cut), _ => (int)cut };

        var e = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(model[..length], "cut.onnx"));
        Assert.Contains("cut.onnx", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    internal static void AssertSameStateDict(IReadOnlyDictionary<string, NamedTensorData> expected, IReadOnlyDictionary<string, NamedTensorData> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, tensor) in expected)
        {
            Assert.Equal(tensor.Shape, actual[key].Shape);
            // Bit patterns, so that -0 vs 0 or a NaN payload would count as a difference.
            Assert.True(MemoryMarshal.Cast<float, uint>(tensor.Data).SequenceEqual(MemoryMarshal.Cast<float, uint>(actual[key].Data)),
                $"state dict entry '{key}' differs");
        }
    }

    /// <summary>A minimal ModelProto around a graph built by <paramref name="graph"/>, from another producer.</summary>
    private static byte[] Model(Action<ProtoWriter> graph, Action<ProtoWriter>? model = null) =>
        new ProtoWriter()
            .Varint(1, 8)
            .String(2, "other")
            .Message(7, graph)
            .Message(8, o => o.String(1, "").Varint(2, 17))
            .Also(model)
            .ToArray();

    private static string[] ClassNames(int count) => Enumerable.Range(0, count).Select(i => $"class {i}").ToArray();

    private static float[] Ones(ReferenceFixture f) => Enumerable.Repeat(1f, f.Architecture.InputChannels).ToArray();

    private static float[] Halves(ReferenceFixture f) => Enumerable.Repeat(0.5f, f.Architecture.InputChannels).ToArray();
}
