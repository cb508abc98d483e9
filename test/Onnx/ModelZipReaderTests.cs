using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>Finding our network again in a zip written by mlContext.Model.Save, nested inside a user's larger chain.</summary>
public sealed class ModelZipReaderTests : IDisposable
{
    private static readonly string[] ClassNames = { "cat", "dog", "bird", "fish", "frog", "deer", "ship", "car", "plane", "truck" };

    private readonly ITestOutputHelper _output;
    private readonly string _folder = Directory.CreateTempSubdirectory("cct-zipreader-").FullName;

    public ModelZipReaderTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed class Row
    {
        public string Label { get; set; } = "";
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void FindsTheNetworkInsideANestedChainWithItsWeightsAndMetadata()
    {
        var ml = new MLContext(seed: 1);
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        byte[] onnx = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing,
            new OnnxExportSettings { ClassNames = ClassNames, Metadata = OnnxModelReaderTests.Metadata });
        var raw = RawData(ml, f);

        // A user's pipeline: a stock transform before our scoring chain (which becomes a nested chain) and one after.
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw);
        var keyed = toKey.Transform(raw);
        var scoring = OnnxScoringPipeline.Create(ml, keyed.Schema, onnx, "Features", ClassNames);
        var copy = ml.Transforms.CopyColumns("ScoreCopy", "Score").Fit(scoring.Transform(keyed));
        var model = new TransformerChain<ITransformer>(toKey, scoring, copy);
        string zip = Path.Combine(_folder, "model.zip");
        ml.Model.Save(model, raw.Schema, zip);
        LogEntries(zip);

        var saved = ModelZipReader.Read(zip);

        Assert.Equal(onnx, saved.OnnxModel); // ML.NET keeps the exported bytes unchanged
        OnnxModelReaderTests.AssertSameStateDict(f.StateDict, saved.StateDict());
        Assert.Equal(OnnxModelReaderTests.Metadata.OrderBy(p => p.Key), saved.Metadata.OrderBy(p => p.Key));
        Assert.Equal(zip, saved.ZipPath);
        // Where OnnxTransformer put it: an entry "OnnxModel" in the folder of the transform, below the nested chain,
        // holding an int32 length prefix and then the model.
        Assert.Matches(@"^TransformerChain/Transform_001/Transform_000/OnnxModel$", saved.EntryName);
        using var archive = ZipFile.OpenRead(zip);
        using var entry = archive.GetEntry(saved.EntryName)!.Open();
        var prefix = new byte[4];
        entry.ReadExactly(prefix);
        Assert.Equal(onnx.Length, BinaryPrimitives.ReadInt32LittleEndian(prefix));
        _output.WriteLine($"found in {saved.EntryName}: {saved.OnnxModel.Length} bytes, {saved.StateDict().Count} weights");
    }

    [Fact]
    public void AZipWithoutOurNetworkGivesAnErrorNamingTheFile()
    {
        var ml = new MLContext(seed: 1);
        var raw = RawData(ml, ReferenceFixture.Load("cct_2_3x2_32"));
        string zip = Path.Combine(_folder, "keys-only.zip");
        ml.Model.Save(ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw), raw.Schema, zip);

        var e = Assert.Throws<InvalidDataException>(() => ModelZipReader.Read(zip));
        Assert.Contains($"'{zip}' holds no Compact Transformer model", e.Message);
    }

    [Fact]
    public void AFileThatIsNotAZipOrIsMissingGivesAnErrorNamingIt()
    {
        string notZip = Path.Combine(_folder, "model.onnx.zip");
        File.WriteAllText(notZip, "not a zip");
        Assert.Contains($"'{notZip}' is not a zip file", Assert.Throws<InvalidDataException>(() => ModelZipReader.Read(notZip)).Message);

        string missing = Path.Combine(_folder, "missing.zip");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ModelZipReader.Read(missing)).Message);
    }

    [Fact]
    public void AnOnnxModelOfAnotherProducerIsNotTakenForOurs()
    {
        // A zip with an ONNX entry from someone else and a damaged one of ours, laid out as ML.NET would.
        var f = ReferenceFixture.Load("cct_2_3x2_32");
        byte[] ours = CctOnnxExporter.Export(f.Architecture, f.StateDict, f.Mixing, new OnnxExportSettings());
        byte[] foreign = new ProtoWriter().Varint(1, 8).String(2, "someone-else").Message(7, g => g.String(2, "g")).ToArray();
        string zip = Path.Combine(_folder, "foreign.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            Write(archive, "TransformerChain/Transform_000/OnnxModel", foreign);
            Write(archive, "TransformerChain/Transform_001/OnnxModel", ours[..(ours.Length / 2)]);
        }

        var e = Assert.Throws<InvalidDataException>(() => ModelZipReader.Read(zip));
        Assert.Contains("holds no Compact Transformer model", e.Message);
        Assert.Contains("TransformerChain/Transform_000/OnnxModel (producer 'someone-else')", e.Message);
        Assert.Contains("'TransformerChain/Transform_001/OnnxModel' is truncated", e.Message);
    }

    private static void Write(ZipArchive archive, string name, byte[] model)
    {
        using var stream = archive.CreateEntry(name).Open();
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, model.Length);
        stream.Write(prefix);
        stream.Write(model);
    }

    private static IDataView RawData(MLContext ml, ReferenceFixture f)
    {
        var rows = Enumerable.Range(0, f.BatchSize).Select(r => new Row { Label = ClassNames[r], Features = f.InputRow(r) }).ToArray();
        var definition = SchemaDefinition.Create(typeof(Row));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, f.ImageSize);
        return ml.Data.LoadFromEnumerable(rows, definition);
    }

    private void LogEntries(string zip)
    {
        using var archive = ZipFile.OpenRead(zip);
        foreach (var entry in archive.Entries)
            _output.WriteLine($"{entry.FullName}  {entry.Length} bytes");
    }
}
