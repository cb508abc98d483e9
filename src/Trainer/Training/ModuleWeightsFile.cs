using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// The network weights of a training checkpoint (<c>model.bin</c>, TorchSharp's <c>Module.save</c> format: an entry
/// count, then per entry its key and a tensor record). Read and checked in managed code against the network before
/// TorchSharp loads it, so a damaged file is an <see cref="InvalidDataException"/> and a file of another network lists
/// every offending key.
/// </summary>
internal sealed class ModuleWeightsFile
{
    private readonly CheckpointBinaryReader _file;

    private ModuleWeightsFile(CheckpointBinaryReader file, IReadOnlyDictionary<string, StoredTensor> entries)
    {
        _file = file;
        Entries = entries;
    }

    /// <summary>The whole file.</summary>
    public byte[] Bytes => _file.Bytes;

    /// <summary>The entries by key, in file order.</summary>
    public IReadOnlyDictionary<string, StoredTensor> Entries { get; }

    /// <summary>Reads and checks the structure of the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or damaged; the message names it.</exception>
    public static ModuleWeightsFile Read(string path)
    {
        var file = CheckpointBinaryReader.Open(path, "network weights written by TorchSharp's Module.save");
        // Each entry takes at least 3 bytes (an empty key, a type code and a rank).
        int count = file.Count("the entry count", file.Bytes.Length / 3);
        var entries = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            int at = file.Position;
            string key = file.String($"the key of entry {i}");
            if (!entries.TryAdd(key, file.Tensor($"entry '{key}'")))
                throw file.Damaged($"entry '{key}' appears twice", at);
        }
        file.ExpectEnd($"the {count} entries");
        return new ModuleWeightsFile(file, entries);
    }

    /// <summary>
    /// Throws when the file does not hold exactly the network's state: every missing, unexpected and mis-shaped key listed.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">The file is of another network.</exception>
    public void CheckFits(CctNetwork network)
    {
        var live = network.state_dict();
        var missing = live.Keys.Where(k => !Entries.ContainsKey(k)).ToList();
        var unexpected = Entries.Keys.Where(k => !live.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = live.Where(kv => Entries.TryGetValue(kv.Key, out var stored) && !stored.Fits(kv.Value))
            .Select(kv => $"{kv.Key}: checkpoint {Entries[kv.Key]} vs network {StoredTensor.Describe(kv.Value.dtype, kv.Value.shape)}")
            .ToList();
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
            throw new CheckpointMismatchException(_file.Path, missing, unexpected, misShaped);
    }

    /// <summary>Copies the weights into <paramref name="network"/> (on whatever device it is), after <see cref="CheckFits"/>.</summary>
    public void LoadInto(CctNetwork network)
    {
        CheckFits(network);
        // Every count, key, type, shape and length has been checked: TorchSharp reads exactly what was validated.
        using var stream = new MemoryStream(_file.Bytes, writable: false);
        using var reader = new BinaryReader(stream);
        network.load(reader, strict: true);
    }
}
