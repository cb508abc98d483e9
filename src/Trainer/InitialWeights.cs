using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer;

/// <summary>Loads a starting point for training: a PyTorch state_dict of the original, a model zip of ours or a training checkpoint.</summary>
internal static class InitialWeights
{
    // Fine-tuning usually changes the image size or the class count: allow both, keep everything else strict.
    private static readonly CheckpointLoadOptions FineTuning = new() { ResizePositionalEmbedding = true, ReplaceClassifierHead = true };

    /// <summary>Loads the weights at <paramref name="path"/> into <paramref name="network"/>, allowing another image size or class count.</summary>
    /// <exception cref="FileNotFoundException">Nothing is at <paramref name="path"/>, or a checkpoint folder lacks a file.</exception>
    /// <exception cref="InvalidDataException">The file (or a file of the checkpoint folder) is truncated, damaged or of another kind; the message names it.</exception>
    /// <exception cref="CheckpointMismatchException">The weights are of another architecture; the message lists every offending key.</exception>
    public static CheckpointLoadReport Load(CctNetwork network, string path)
    {
        if (Directory.Exists(path))
        {
            // A training checkpoint (or the folder of several): same architecture, weights only.
            Training.TrainingCheckpoint.LoadWeights(path, network);
            var keys = network.state_dict().Keys.ToList();
            return new CheckpointLoadReport(keys, Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        }
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"Initial weights '{path}' do not exist; expected a PyTorch .pt/.pth state_dict, a model zip saved from this trainer or a training checkpoint folder.", path);
        if (string.Equals(Path.GetExtension(path), ".zip", StringComparison.OrdinalIgnoreCase))
            return PyTorchCheckpoint.Load(network, CompactTransformerModelFile.Read(path).StateDict, path, FineTuning);
        return PyTorchCheckpoint.Load(network, path, FineTuning);
    }
}
