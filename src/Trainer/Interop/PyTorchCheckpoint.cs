using System.Collections.Specialized;
using Microsoft.ML.CompactTransformer.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>
/// Reads and writes PyTorch state_dicts (<c>torch.save(model.state_dict())</c> zip-pickle files, .pt/.pth)
/// with the original implementation's key names, e.g. the authors' published CCT checkpoints.
/// </summary>
public static class PyTorchCheckpoint
{
    private const string PositionalEmbeddingKey = "classifier.positional_emb";
    private const string HeadPrefix = "classifier.fc.";

    /// <summary>
    /// Reads the tensors of a state_dict file, as float32 on the CPU. A "module." prefix (DataParallel) is
    /// removed, and a dictionary that wraps the state_dict under "state_dict" or "model" is unwrapped. The file is read
    /// and checked in managed code (zip structure and CRCs, pickle, storage sizes, views) before any tensor is made.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a torch.save zip-pickle file, or is truncated or damaged; the message names the file and the problem.
    /// </exception>
    public static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        var arrays = TorchSaveReader.Read(path);
        if (arrays.Count > 0 && arrays.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal)))
            arrays = arrays.ToDictionary(kv => kv.Key["module.".Length..], kv => kv.Value, StringComparer.Ordinal);
        return arrays.ToDictionary(kv => kv.Key, kv => tensor(kv.Value.Data, kv.Value.Shape), StringComparer.Ordinal);
    }

    /// <summary>
    /// Copies the checkpoint at <paramref name="path"/> into <paramref name="network"/> (strict by default) and
    /// leaves every parameter trainable (except a sine embedding, which never is).
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a torch.save state_dict, or is truncated or damaged; the message names it.</exception>
    /// <exception cref="CheckpointMismatchException">The checkpoint does not fit; the message lists every offending key.</exception>
    public static CheckpointLoadReport Load(CctNetwork network, string path, CheckpointLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var source = ReadStateDict(path);
        try
        {
            return Load(network, source, path, options ?? new CheckpointLoadOptions());
        }
        finally
        {
            foreach (var t in source.Values)
                t.Dispose();
        }
    }

    /// <summary>Copies plain-array weights (e.g. read back from a saved model) into <paramref name="network"/>.</summary>
    public static CheckpointLoadReport Load(CctNetwork network, IReadOnlyDictionary<string, NamedTensorData> source, string sourceName, CheckpointLoadOptions options)
    {
        var tensors = source.ToDictionary(kv => kv.Key, kv => tensor(kv.Value.Data, kv.Value.Shape));
        try
        {
            return Load(network, tensors, sourceName, options);
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
    }

    /// <summary>Copies an in-memory state_dict into <paramref name="network"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static CheckpointLoadReport Load(CctNetwork network, IReadOnlyDictionary<string, Tensor> source, string sourceName, CheckpointLoadOptions options)
    {
        var arch = network.Architecture;
        var target = network.state_dict();
        var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = new List<string>();
        var loaded = new List<string>();
        var resized = new List<string>();
        var keptInitialized = new List<string>();
        var copies = new List<(Tensor Target, Tensor Value, bool Owned)>();

        foreach (var (key, t) in target)
        {
            if (!source.TryGetValue(key, out var s))
                continue;
            if (s.shape.SequenceEqual(t.shape))
            {
                copies.Add((t, s, false));
                loaded.Add(key);
            }
            else if (key == PositionalEmbeddingKey && arch.PositionalEmbedding == PositionalEmbeddingKind.Sine)
            {
                resized.Add(key); // the network already holds the sine table for its own grid
            }
            else if (key == PositionalEmbeddingKey && options.ResizePositionalEmbedding && TryResize(s, arch, out var r))
            {
                copies.Add((t, r, true));
                resized.Add(key);
            }
            else if (key.StartsWith(HeadPrefix, StringComparison.Ordinal) && options.ReplaceClassifierHead)
            {
                keptInitialized.Add(key);
            }
            else
            {
                misShaped.Add($"{key}: checkpoint [{string.Join(", ", s.shape)}] vs network [{string.Join(", ", t.shape)}]");
            }
        }

        if (missing.Count + unexpected.Count + misShaped.Count > 0 && options.Strict)
        {
            foreach (var c in copies.Where(c => c.Owned))
                c.Value.Dispose();
            throw new CheckpointMismatchException(sourceName, missing, unexpected, misShaped);
        }

        using (no_grad())
        {
            foreach (var (t, value, owned) in copies)
            {
                t.copy_(value);
                if (owned)
                    value.Dispose();
            }
        }
        keptInitialized.AddRange(missing);
        foreach (var (name, p) in network.named_parameters())
            p.requires_grad = !(name == PositionalEmbeddingKey && arch.PositionalEmbedding == PositionalEmbeddingKind.Sine);
        return new CheckpointLoadReport(loaded, resized, keptInitialized, unexpected.Concat(misShaped.Select(m => m[..m.IndexOf(':')])).ToList());
    }

    // The checkpoint's grid is inferred as square (the original only builds square images).
    private static bool TryResize(Tensor source, CctArchitecture arch, out Tensor resized)
    {
        resized = null!;
        int prefix = arch.Pooling == PoolingKind.ClassToken ? 1 : 0;
        if (source.dim() != 3 || source.shape[2] != arch.EmbeddingDim)
            return false;
        long tokens = source.shape[1] - prefix;
        int side = (int)Math.Round(Math.Sqrt(tokens));
        if (side * side != tokens)
            return false;
        resized = PositionalEmbeddingResizer.Resize(source, (side, side), arch.TokenGrid, prefix);
        return true;
    }

    /// <summary>
    /// Writes the network's state_dict to <paramref name="path"/> in PyTorch's zip-pickle format, with the
    /// original key names, so that <c>model.load_state_dict(torch.load(path))</c> works in Python. The file is
    /// written next to its destination first and renamed, so a failure never leaves half a file.
    /// </summary>
    public static void Save(CctNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var scope = NewDisposeScope();
        var state = new OrderedDictionary();
        foreach (var (key, t) in network.state_dict())
            state.Add(key, t.detach().cpu().contiguous());
        AtomicFile.Write(path, temp => PyTorchPickler.PickleStateDict(temp, state));
    }
}
