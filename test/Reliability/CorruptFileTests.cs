using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Tests.Cli;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Truncated, random and hand-damaged files of every kind the library reads give a documented exception whose message
/// names the file, never a crash; a checkpoint of another architecture lists the keys that differ.
/// </summary>
[Collection(ValidFilesCollection.Name)]
public sealed class CorruptFileTests : IDisposable
{
    private readonly ValidFiles files;
    private readonly string folder = Directory.CreateTempSubdirectory("cct-corrupt-").FullName;

    public CorruptFileTests(ValidFiles files) => this.files = files;

    public void Dispose() => Support.ScratchFolder.Delete(folder);

    /// <summary>Cut points as fractions of the file: its first bytes only, the middle, all but the last byte.</summary>
    public static TheoryData<double> Cuts => new(0.0, 0.02, 0.5, 0.999);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Cut(byte[] bytes, double fraction) => bytes[..Math.Min(bytes.Length - 1, (int)(bytes.Length * fraction))];

    private static byte[] RandomBytes(int length, int seed, ReadOnlySpan<byte> prefix = default)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        prefix.CopyTo(bytes);
        return bytes;
    }

    private static T ThrowsNaming<T>(Action read, string path) where T : Exception
    {
        var e = Assert.Throws<T>(read);
        Assert.Contains(path, e.Message);
        return e;
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void ATruncatedModelZipIsReportedNamingIt(double cut)
    {
        string path = Write("cut.zip", Cut(File.ReadAllBytes(files.ModelZip), cut));
        ThrowsNaming<InvalidDataException>(() => CompactTransformerModelFile.Read(path), path);
        ThrowsNaming<InvalidDataException>(() => ModelZipReader.Read(path), path);
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadModelZip(path, folder), path);
    }

    [Fact]
    public void RandomBytesAsAModelZipAreReportedNamingThem()
    {
        // Plain noise, and noise behind a zip signature so that it gets past a first look.
        foreach (var bytes in new[] { RandomBytes(4096, 1), RandomBytes(4096, 2, "PK\u0003\u0004"u8), RandomBytes(4096, 3, "PK\u0005\u0006"u8) })
        {
            string path = Write("random.zip", bytes);
            ThrowsNaming<InvalidDataException>(() => CompactTransformerModelFile.Read(path), path);
            ThrowsNaming<InvalidDataException>(() => FileReaders.LoadModelZip(path, folder), path);
            Assert.ThrowsAny<Exception>(() => FileReaders.LoadWithMlNet(path, folder)); // ML.NET alone fails too, in its own words
        }
    }

    [Fact]
    public void AByteChangedInsideAModelZipFailsItsCrcAndNamesTheEntry()
    {
        byte[] zip = File.ReadAllBytes(files.ModelZip);
        string onnxEntry = OnnxEntry(zip);
        // Deflated entries: find the stored data of the ONNX entry through its local header and change a byte in its middle.
        using var archive = new ZipArchive(new MemoryStream(zip));
        long compressed = archive.GetEntry(onnxEntry)!.CompressedLength;
        int header = IndexOf(zip, System.Text.Encoding.UTF8.GetBytes(onnxEntry)) - 30;
        int dataStart = header + 30 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(header + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(header + 28));
        zip[dataStart + (int)compressed / 2] ^= 0x5A;
        string path = Write("flipped.zip", zip);

        var e = ThrowsNaming<InvalidDataException>(() => CompactTransformerModelFile.Read(path), path);
        Assert.Contains(onnxEntry, e.Message);
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadModelZip(path, folder), path);
    }

    [Fact]
    public void DamagedMetadataInsideAWholeZipIsReportedNamingTheKey()
    {
        // The architecture entry of the ONNX metadata, made to describe a network far larger than the stored weights.
        byte[] zip = File.ReadAllBytes(files.ModelZip);
        string entry = OnnxEntry(zip);
        byte[] onnx = Corruption.EntryOf(zip, entry);
        byte[] key = "\"EmbeddingDim\":16"u8.ToArray();
        int at = IndexOf(onnx, key);
        Assert.True(at >= 0, "the architecture metadata holds the embedding size");
        var damaged = Corruption.InsideEntry(zip, entry, new Corruption.Overwrite(at, "\"EmbeddingDim\":96"u8.ToArray()));
        string path = Write("big.zip", damaged);
        var e = ThrowsNaming<InvalidDataException>(() => CompactTransformerModelFile.Read(path), path);
        Assert.Contains("architecture metadata describes a network of at least", e.Message);

        var invalid = Corruption.InsideEntry(zip, entry, new Corruption.Overwrite(at, "\"EmbeddingDim\":-1"u8.ToArray()));
        path = Write("invalid.zip", invalid);
        e = ThrowsNaming<InvalidDataException>(() => CompactTransformerModelFile.Read(path), path);
        Assert.Contains("cct.architecture", e.Message);
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void ATruncatedOnnxFileIsReportedNamingIt(double cut)
    {
        string path = Write("cut.onnx", Cut(File.ReadAllBytes(files.OnnxFile), cut));
        ThrowsNaming<InvalidDataException>(() => OnnxModelReader.ReadFile(path), path);
    }

    [Fact]
    public void RandomBytesAsAnOnnxFileAreReportedAndAMissingOneIsNamed()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            string path = Write("random.onnx", RandomBytes(2048, seed));
            ThrowsNaming<InvalidDataException>(() => OnnxModelReader.ReadFile(path), path);
        }
        string missing = Path.Combine(folder, "missing.onnx");
        ThrowsNaming<FileNotFoundException>(() => OnnxModelReader.ReadFile(missing), missing);
    }

    [Fact]
    public void AnInitializerWithAHugeShapeIsRefusedWithoutAllocating()
    {
        // dims [2^40, 2^40]: their product overflows a long; raw_data of 8 bytes.
        var model = new Onnx.ProtoWriter().Varint(1, 8).String(2, "x")
            .Message(7, g => g.Message(5, t => t.PackedInt64s(1, 1L << 40, 1L << 40).Varint(2, 1).String(8, "classifier.w").Bytes(9, new byte[8])))
            .ToArray();
        string path = Write("huge.onnx", model);
        var e = ThrowsNaming<InvalidDataException>(() => OnnxModelReader.ReadFile(path), path);
        Assert.Contains("classifier.w", e.Message);
    }

    [Fact]
    public void ALengthFieldThatReadsAsNegativeIsRefusedInsteadOfMovingTheReaderBack()
    {
        // ir_version 8, then the graph field (7, length-delimited) with length varint 0xFFFFFFFF, which is -1 as an int.
        string path = Write("negative.onnx", [0x08, 0x08, 0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]);
        var e = ThrowsNaming<InvalidDataException>(() => OnnxModelReader.ReadFile(path), path);
        Assert.Contains("negative length", e.Message);
    }

    public static TheoryData<string, string> CheckpointDamage => new()
    {
        { "model.bin", "truncate" }, { "model.bin", "random" }, { "model.bin", "empty" },
        { "optimizer.bin", "truncate" }, { "optimizer.bin", "random" }, { "optimizer.bin", "empty" },
        { "best.bin", "truncate" }, { "best.bin", "random" }, { "best.bin", "empty" },
        { "state.json", "truncate" }, { "state.json", "random" }, { "state.json", "empty" },
    };

    [Theory]
    [MemberData(nameof(CheckpointDamage))]
    public void EachFileOfATrainingCheckpointDamagedIsReportedNamingIt(string file, string damage)
    {
        string checkpoint = CopyCheckpoint();
        string path = Path.Combine(checkpoint, file);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, damage switch
        {
            "truncate" => bytes[..(bytes.Length / 2)],
            "random" => RandomBytes(bytes.Length, seed: file.Length),
            _ => [],
        });

        ThrowsNaming<InvalidDataException>(() => FileReaders.RestoreCheckpoint(checkpoint, files), path);
        if (file is "model.bin")
            ThrowsNaming<InvalidDataException>(() => FileReaders.LoadCheckpointWeights(checkpoint, files.Architecture, files.Mixing), path);
        if (file is "state.json")
            ThrowsNaming<InvalidDataException>(() => TrainingCheckpoint.ReadState(checkpoint), path);
    }

    [Fact]
    public void AChangedWeightInAWellFormedCheckpointFileFailsItsSha256()
    {
        // The last byte of model.bin is inside the data of its last tensor: the file stays well-formed.
        string checkpoint = CopyCheckpoint();
        string model = Path.Combine(checkpoint, "model.bin");
        byte[] bytes = File.ReadAllBytes(model);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(model, bytes);
        var e = ThrowsNaming<InvalidDataException>(() => FileReaders.RestoreCheckpoint(checkpoint, files), model);
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(Path.Combine(checkpoint, "state.json"), e.Message);
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadCheckpointWeights(checkpoint, files.Architecture, files.Mixing), model);
    }

    [Fact]
    public void ACheckpointWrittenBeforeHashesWereKeptStillRestores()
    {
        string checkpoint = CopyCheckpoint();
        string state = Path.Combine(checkpoint, "state.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(state))!.AsObject();
        Assert.True(json.Remove("FileHashes"), "state.json records the hashes");
        File.WriteAllText(state, json.ToJsonString());
        FileReaders.RestoreCheckpoint(checkpoint, files);
    }

    [Fact]
    public void HugeCountsInCheckpointFilesAreRefusedBeforeAnythingIsAllocated()
    {
        string checkpoint = CopyCheckpoint();
        // model.bin: an entry count of 2^62 (LEB128), then nothing.
        string model = Path.Combine(checkpoint, "model.bin");
        File.WriteAllBytes(model, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
        var e = ThrowsNaming<InvalidDataException>(() => FileReaders.LoadCheckpointWeights(checkpoint, files.Architecture, files.Mixing), model);
        Assert.Contains("entry count", e.Message);

        // model.bin: one entry whose tensor declares rank 2^40 (TorchSharp's own reader would allocate an array that long).
        byte[] key = [.. "x"u8];
        File.WriteAllBytes(model, [1, 1, .. key, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
        e = ThrowsNaming<InvalidDataException>(() => FileReaders.LoadCheckpointWeights(checkpoint, files.Architecture, files.Mixing), model);
        Assert.Contains("rank", e.Message);

        // best.bin: a valid header that promises int.MaxValue weights.
        string checkpoint2 = CopyCheckpoint();
        string best = Path.Combine(checkpoint2, "best.bin");
        byte[] bytes = File.ReadAllBytes(best);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), int.MaxValue);
        File.WriteAllBytes(best, bytes);
        ThrowsNaming<InvalidDataException>(() => FileReaders.RestoreCheckpoint(checkpoint2, files), best);
    }

    [Fact]
    public void AValidCheckpointStillRestoresAndLoads()
    {
        FileReaders.RestoreCheckpoint(files.Checkpoint, files);
        FileReaders.LoadCheckpointWeights(files.Checkpoint, files.Architecture, files.Mixing);
        FileReaders.ReadModelZip(files.ModelZip);
        FileReaders.ReadOnnx(files.OnnxFile);
        FileReaders.LoadPyTorch(files.PyTorchFile, files.Architecture);
        FileReaders.LoadPyTorch(ValidFiles.ReferencePyTorchFile, CctPresets.Get("cct_2_3x2_32"));
        var model = CompactTransformerModelFile.Load(FileReaders.Context(folder), files.ModelZip, out var schema);
        Assert.NotNull(schema.GetColumnOrNull("Features"));
        (model as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void ATruncatedPyTorchFileIsReportedNamingIt(double cut)
    {
        foreach (var (source, architecture) in PyTorchFiles())
        {
            string path = Write("cut.pt", Cut(File.ReadAllBytes(source), cut));
            ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(path, architecture), path);
        }
    }

    [Fact]
    public void RandomBytesOrALegacyPickleAsAPyTorchFileAreReportedNamingThem()
    {
        string random = Write("random.pt", RandomBytes(4096, 7));
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(random, files.Architecture), random);
        string zipNoise = Write("zipnoise.pt", RandomBytes(4096, 8, "PK\u0003\u0004"u8));
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(zipNoise, files.Architecture), zipNoise);
        // torch.save before PyTorch 1.6 wrote a bare pickle: protocol 2 header, then the magic number.
        string legacy = Write("legacy.pt", [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
        var e = ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(legacy, files.Architecture), legacy);
        Assert.Contains("before 1.6", e.Message);
        string empty = Write("empty.pt", []);
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(empty, files.Architecture), empty);
    }

    [Fact]
    public void DamageInsideAWholePyTorchZipIsFoundByTheReaderNotByLibtorch()
    {
        byte[] zip = File.ReadAllBytes(ValidFiles.ReferencePyTorchFile);
        var architecture = CctPresets.Get("cct_2_3x2_32");
        string pickle = "cct_2_3x2_32/data.pkl";
        byte[] data = Corruption.EntryOf(zip, pickle);

        // A string whose 4-byte length claims 4 GB: the first BINUNICODE ('X') of the pickle.
        int x = Array.IndexOf(data, (byte)'X');
        var longString = Corruption.InsideEntry(zip, pickle, new Corruption.Overwrite(x + 1, [0xF0, 0xFF, 0xFF, 0xFF]));
        string path = Write("long-string.pt", longString);
        Assert.Contains("truncated", ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(path, architecture), path).Message);

        // The first storage declared with 2^31 elements (BININT2 1728 of the first conv weight becomes BININT 0x7fffffff).
        int count = IndexOf(data, [(byte)'M', 0xC0, 0x06]);
        var hugeStorage = Corruption.InsideEntry(zip, pickle, new Corruption.Splice(count, 3, [(byte)'J', 0xFF, 0xFF, 0xFF, 0x7F]));
        path = Write("huge-storage.pt", hugeStorage);
        ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(path, architecture), path);

        // A storage entry cut short, with its zip entry made consistent: the pickle still declares the full size.
        var shortStorage = Corruption.InsideEntry(zip, "cct_2_3x2_32/data/0", new Corruption.Truncate(100));
        path = Write("short-storage.pt", shortStorage);
        Assert.Contains("storage '0'", ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(path, architecture), path).Message);

        // The first tensor's stride made to reach past its storage: (27, 9, 3, 1) -> (127, 9, 3, 1).
        int stride = IndexOf(data, [(byte)'K', 27, (byte)'K', 9, (byte)'K', 3, (byte)'K', 1]);
        var pastStorage = Corruption.InsideEntry(zip, pickle, new Corruption.Overwrite(stride + 1, [127]));
        path = Write("past-storage.pt", pastStorage);
        Assert.Contains("past the end of its storage", ThrowsNaming<InvalidDataException>(() => FileReaders.LoadPyTorch(path, architecture), path).Message);
    }

    [Fact]
    public void AMissingPyTorchFileIsNamed()
    {
        string missing = Path.Combine(folder, "missing.pt");
        ThrowsNaming<FileNotFoundException>(() => FileReaders.LoadPyTorch(missing, files.Architecture), missing);
    }

    [Fact]
    public void WeightsOfCct2LoadedIntoCct4ListTheKeysThatDiffer_PyTorchFile()
    {
        using var network = new CctNetwork(CctPresets.Get("cct_4_3x2_32"));
        var e = ThrowsNaming<CheckpointMismatchException>(() => PyTorchCheckpoint.Load(network, ValidFiles.ReferencePyTorchFile), ValidFiles.ReferencePyTorchFile);
        AssertListsTheMissingBlocks(e);
        var fineTuning = ThrowsNaming<CheckpointMismatchException>(() => InitialWeights.Load(network, ValidFiles.ReferencePyTorchFile), ValidFiles.ReferencePyTorchFile);
        AssertListsTheMissingBlocks(fineTuning);
    }

    [Fact]
    public void WeightsOfCct2LoadedIntoCct4ListTheKeysThatDiffer_TrainingCheckpoint()
    {
        var settings = files.CheckpointState.Settings;
        using var cct2 = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
        var (optimizer2, _) = OptimizerGroups.CreateAdamW(cct2, settings);
        string written;
        using (optimizer2)
            written = TrainingCheckpoint.Write(Path.Combine(folder, "cct2"), files.CheckpointState, cct2, optimizer2, tracker: null);
        string weights = Path.Combine(written, "model.bin");

        using var cct4 = new CctNetwork(CctPresets.Get("cct_4_3x2_32"));
        AssertListsTheMissingBlocks(ThrowsNaming<CheckpointMismatchException>(() => InitialWeights.Load(cct4, written), weights));
        var (optimizer4, _) = OptimizerGroups.CreateAdamW(cct4, settings);
        using (optimizer4)
        {
            var e = ThrowsNaming<CheckpointMismatchException>(
                () => TrainingCheckpoint.Restore(written, settings, files.CheckpointState.TrainingImages, cct4, optimizer4, tracker: null), weights);
            AssertListsTheMissingBlocks(e);
        }

        // Another embedding size: every key is there, with other shapes.
        using var wide = new CctNetwork(CctPresets.Get("cct_2_3x2_32") with { EmbeddingDim = 64 });
        var misShaped = ThrowsNaming<CheckpointMismatchException>(() => InitialWeights.Load(wide, written), weights);
        Assert.Empty(misShaped.Missing);
        Assert.Contains(misShaped.MisShaped, m => m.StartsWith("classifier.fc.weight: checkpoint Float32[10, 128] vs network Float32[10, 64]", StringComparison.Ordinal));
    }

    [Fact]
    public void WeightsOfCct2LoadedIntoCct4ListTheKeysThatDiffer_ModelZip()
    {
        using var cct2 = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
        var ml = FileReaders.Context(folder);
        var classes = Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray();
        using var model = CompactTransformerModel.FromNetwork(ml, cct2, classes, PixelNormalization.Identity);
        var schema = new DataViewSchema.Builder();
        schema.AddColumn("Features", new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, 3 * 32 * 32));
        string zip = Path.Combine(folder, "cct2.zip");
        ml.Model.Save(model, schema.ToSchema(), zip);

        using var cct4 = new CctNetwork(CctPresets.Get("cct_4_3x2_32"));
        AssertListsTheMissingBlocks(ThrowsNaming<CheckpointMismatchException>(() => InitialWeights.Load(cct4, zip), zip));
    }

    [Fact]
    public void DamagedFilesGiveOneLineUsageErrorsInTheCli()
    {
        string data = Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", "fashion-mnist-20", "train");
        string zip = Write("cut-model.zip", Cut(File.ReadAllBytes(files.ModelZip), 0.5));
        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", zip, "--data", data), zip);

        string pt = Write("cut.pt", Cut(File.ReadAllBytes(ValidFiles.ReferencePyTorchFile), 0.5));
        CliRunner.AssertUsageError(CliRunner.Run("import", "--checkpoint", pt, "--architecture", "cct_2_3x2_32", "--classes", "10",
            "--output", Path.Combine(folder, "out.zip")), pt);
        string noise = Write("noise.pt", RandomBytes(1000, 9));
        CliRunner.AssertUsageError(CliRunner.Run("import", "--checkpoint", noise, "--architecture", "cct_2_3x2_32", "--classes", "10",
            "--output", Path.Combine(folder, "out.zip")), noise);
        Assert.False(File.Exists(Path.Combine(folder, "out.zip")));
    }

    private static void AssertListsTheMissingBlocks(CheckpointMismatchException e)
    {
        // cct_4 has blocks 2 and 3, which cct_2 lacks; everything else has the same shape.
        Assert.Contains("classifier.blocks.2.self_attn.qkv.weight", e.Missing);
        Assert.Contains("classifier.blocks.3.linear2.bias", e.Missing);
        Assert.All(e.Missing, k => Assert.Matches(@"^classifier\.blocks\.[23]\.", k));
        Assert.Empty(e.Unexpected);
        Assert.Empty(e.MisShaped);
        Assert.Contains("classifier.blocks.3.linear2.bias", e.Message);
        Assert.Contains($"missing keys ({e.Missing.Count})", e.Message);
    }

    private IEnumerable<(string Path, CctArchitecture Architecture)> PyTorchFiles() =>
        [(files.PyTorchFile, files.Architecture), (ValidFiles.ReferencePyTorchFile, CctPresets.Get("cct_2_3x2_32"))];

    private string CopyCheckpoint()
    {
        string copy = Path.Combine(folder, "checkpoint-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(files.Checkpoint))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    internal static string OnnxEntry(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip));
        return archive.Entries.Single(e => e.Name == "OnnxModel").FullName;
    }

    internal static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
