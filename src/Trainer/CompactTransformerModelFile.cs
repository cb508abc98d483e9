using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Reads back what a model zip saved from this trainer holds (through <c>mlContext.Model.Save</c>, also inside a
/// larger pipeline): weights under the original's keys, architecture, classes, normalisation, attention weights
/// and history, so training can continue or fine-tune from it.
/// </summary>
public static class CompactTransformerModelFile
{
    /// <summary>Reads the Compact Transformer inside <paramref name="zipPath"/>.</summary>
    /// <exception cref="InvalidDataException">The file holds no model of ours, or its metadata is damaged; the message names the file.</exception>
    public static SavedCompactTransformer Read(string zipPath)
    {
        var saved = ModelZipReader.Read(zipPath);
        var metadata = saved.Metadata;
        return new SavedCompactTransformer(
            ModelMetadata.Architecture(metadata, zipPath),
            ModelMetadata.ClassNames(metadata, zipPath),
            ModelMetadata.Normalization(metadata, zipPath),
            ModelMetadata.Mixing(metadata, zipPath),
            ModelMetadata.History(metadata, zipPath),
            saved.StateDict(),
            saved.OnnxModel);
    }
}

/// <summary>The contents of a saved Compact Transformer model.</summary>
/// <param name="Architecture">The network's architecture.</param>
/// <param name="ClassNames">Class names in key order.</param>
/// <param name="Normalization">Pixel normalisation folded into the graph.</param>
/// <param name="Mixing">Attention weights and scope exported.</param>
/// <param name="History">The training history.</param>
/// <param name="StateDict">Weights under the original's state_dict keys.</param>
/// <param name="OnnxModel">The ONNX bytes.</param>
public sealed record SavedCompactTransformer(CctArchitecture Architecture, IReadOnlyList<string> ClassNames, PixelNormalization Normalization,
    ValueMixing Mixing, TrainingHistory History, IReadOnlyDictionary<string, NamedTensorData> StateDict, byte[] OnnxModel)
{
    /// <summary>Builds a TorchSharp network with these weights (trainable), for further training or inspection.</summary>
    public CctNetwork CreateNetwork()
    {
        var network = new CctNetwork(Architecture, Mixing.Clone());
        Interop.PyTorchCheckpoint.Load(network, StateDict, "saved model", new Interop.CheckpointLoadOptions());
        return network;
    }
}
