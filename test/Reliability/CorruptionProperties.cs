using CsCheck;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Property: whatever random damage a valid file suffers (cut, bytes flipped, a range overwritten, bytes inserted or
/// deleted), its reader either loads it (damage can be harmless) or throws a documented exception naming the file. Any
/// other exception fails; a crash of the process would end the run. Damage is applied both to the file as a whole and,
/// for zips, inside one entry with the zip rebuilt around it, so that the parsers behind the zip's CRC check are reached.
/// </summary>
[Collection(ValidFilesCollection.Name)]
public sealed class CorruptionProperties : IDisposable
{
    private readonly ValidFiles files;
    private readonly ITestOutputHelper output;
    private readonly string folder = Directory.CreateTempSubdirectory("cct-fuzz-").FullName;

    public CorruptionProperties(ValidFiles files, ITestOutputHelper output)
    {
        this.files = files;
        this.output = output;
    }

    public void Dispose() => Support.ScratchFolder.Delete(folder);

    /// <summary>Damages <paramref name="valid"/> <paramref name="iterations"/> times and checks every outcome with <paramref name="check"/>.</summary>
    private void Fuzz(string name, byte[] valid, int iterations, Func<string, string> check, Func<byte[], Corruption, byte[]>? apply = null)
    {
        apply ??= (bytes, c) => c.Apply(bytes);
        var outcomes = new Dictionary<string, int>();
        string path = Path.Combine(folder, name);
        Corruption.Of(valid.Length).Sample(corruption =>
        {
            File.WriteAllBytes(path, apply(valid, corruption));
            string outcome = check(path);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }, iter: iterations, threads: 1, print: c => c.ToString());
        output.WriteLine($"{name}: {string.Join(", ", outcomes.Select(kv => $"{kv.Key} {kv.Value}"))}");
        Assert.True(outcomes.Keys.Any(k => k != "loaded"), $"{iterations} damaged copies of {name} all loaded: the damage does not reach the reader");
    }

    [Fact]
    public void ADamagedModelZipLoadsOrIsReportedNamingIt()
    {
        byte[] valid = File.ReadAllBytes(files.ModelZip);
        Fuzz("model.zip", valid, 100, path =>
        {
            // ML.NET on its own may throw anything on a damaged zip, in its own words; it must not take the process down.
            try
            {
                FileReaders.LoadWithMlNet(path, folder);
            }
            catch (Exception e) when (e is not (OutOfMemoryException or InsufficientExecutionStackException))
            {
            }
            FileReaders.Outcome(() => FileReaders.LoadModelZip(path, folder), path, FileReaders.DamagedFile);
            return FileReaders.Outcome(() => FileReaders.ReadModelZip(path), path, FileReaders.DamagedFile);
        });
    }

    [Fact]
    public void DamageInsideTheOnnxEntryOfAWholeModelZipLoadsOrIsReportedNamingIt()
    {
        byte[] valid = File.ReadAllBytes(files.ModelZip);
        string entry = CorruptFileTests.OnnxEntry(valid);
        Fuzz("inside-onnx.zip", Corruption.EntryOf(valid, entry), 50, path =>
        {
            // ONNX Runtime parses the damaged graph here, behind ML.NET: it must fail cleanly too.
            FileReaders.Outcome(() => FileReaders.LoadModelZip(path, folder), path, FileReaders.DamagedFile);
            return FileReaders.Outcome(() => FileReaders.ReadModelZip(path), path, FileReaders.DamagedFile);
        }, (onnx, c) => Corruption.InsideEntry(valid, entry, c));
    }

    [Fact]
    public void ADamagedOnnxFileLoadsOrIsReportedNamingIt()
    {
        Fuzz("model.onnx", File.ReadAllBytes(files.OnnxFile), 300,
            path => FileReaders.Outcome(() => FileReaders.ReadOnnx(path), path, FileReaders.DamagedFile));
    }

    [Theory]
    [InlineData("model.bin")]
    [InlineData("optimizer.bin")]
    [InlineData("best.bin")]
    [InlineData("state.json")]
    public void ADamagedFileOfATrainingCheckpointLoadsOrIsReportedNamingIt(string file)
    {
        string checkpoint = Path.Combine(folder, "checkpoint");
        Directory.CreateDirectory(checkpoint);
        foreach (var f in Directory.GetFiles(files.Checkpoint))
            File.Copy(f, Path.Combine(checkpoint, Path.GetFileName(f)), overwrite: true);
        // One network, optimizer and tracker for all iterations: building them draws from libtorch's generator and
        // leaves garbage for the finalizer, and a failed restore leaves them as they were.
        using var run = new FileReaders.ResumingRun(files);
        Fuzz(Path.Combine("checkpoint", file), File.ReadAllBytes(Path.Combine(files.Checkpoint, file)), 100, path =>
        {
            if (file == "model.bin")
                FileReaders.Outcome(() => InitialWeights.Load(run.Network, checkpoint), path, FileReaders.DamagedFile);
            // A damaged state.json may read as the state of another run: refused naming the checkpoint folder.
            return FileReaders.Outcome(() => run.Restore(checkpoint),
                e => e is InvalidOperationException ? checkpoint : path, FileReaders.DamagedCheckpoint);
        });
    }

    [Fact]
    public void ADamagedPyTorchFileLoadsOrIsReportedNamingIt()
    {
        using var tiny = new CctNetwork(files.Architecture);
        Fuzz("model.pt", File.ReadAllBytes(files.PyTorchFile), 150,
            path => FileReaders.Outcome(() => PyTorchCheckpoint.Load(tiny, path), path, FileReaders.DamagedFile));
        using var original = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
        Fuzz("reference.pt", File.ReadAllBytes(ValidFiles.ReferencePyTorchFile), 100,
            path => FileReaders.Outcome(() => PyTorchCheckpoint.Load(original, path), path, FileReaders.DamagedFile));
    }

    [Fact]
    public void DamageInsideThePickleOfAWholePyTorchFileLoadsOrIsReportedNamingIt()
    {
        byte[] ours = File.ReadAllBytes(files.PyTorchFile);
        string ourPickle = PickleEntry(ours);
        using var tiny = new CctNetwork(files.Architecture);
        Fuzz("inside-pickle.pt", Corruption.EntryOf(ours, ourPickle), 120,
            path => FileReaders.Outcome(() => PyTorchCheckpoint.Load(tiny, path), path, FileReaders.DamagedFile),
            (pickle, c) => Corruption.InsideEntry(ours, ourPickle, c));

        byte[] reference = File.ReadAllBytes(ValidFiles.ReferencePyTorchFile);
        using var original = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
        Fuzz("inside-reference-pickle.pt", Corruption.EntryOf(reference, "cct_2_3x2_32/data.pkl"), 80,
            path => FileReaders.Outcome(() => PyTorchCheckpoint.Load(original, path), path, FileReaders.DamagedFile),
            (pickle, c) => Corruption.InsideEntry(reference, "cct_2_3x2_32/data.pkl", c));
    }

    private static string PickleEntry(byte[] zip)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip));
        return archive.Entries.Single(e => e.Name == "data.pkl").FullName;
    }
}
