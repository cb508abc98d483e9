using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Onnx;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Reads back what a model zip saved from this trainer holds (through <c>mlContext.Model.Save</c>, also inside a
/// larger pipeline): weights under the original's keys, architecture, classes, normalisation, attention weights
/// and history, so training can continue or fine-tune from it.
/// </summary>
public static class CompactTransformerModelFile
{
    /// <summary>Reads the Compact Transformer inside <paramref name="zipPath"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="zipPath"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a zip, is truncated or damaged, holds no model of ours, or its metadata is damaged or does not
    /// describe its weights; the message names the file.
    /// </exception>
    public static SavedCompactTransformer Read(string zipPath)
    {
        var saved = ModelZipReader.Read(zipPath);
        var metadata = saved.Metadata;
        var architecture = ModelMetadata.Architecture(metadata, zipPath);
        var stateDict = saved.StateDict();
        CheckSize(architecture, stateDict, zipPath);
        return new SavedCompactTransformer(
            architecture,
            ModelMetadata.ClassNames(metadata, zipPath),
            ModelMetadata.Normalization(metadata, zipPath),
            ModelMetadata.Mixing(metadata, zipPath),
            ModelMetadata.History(metadata, zipPath),
            stateDict,
            saved.OnnxModel)
        { ZipPath = zipPath };
    }

    /// <summary>
    /// Loads a model zip with <c>mlContext.Model.Load</c> after checking that the zip is whole (every entry's size and
    /// CRC-32, which ML.NET does not check), so that a damaged file is reported as such, naming it, instead of surfacing
    /// as whatever ML.NET or ONNX Runtime throws on garbage. Any ML.NET model zip loads, not only ours.
    /// </summary>
    /// <remarks>
    /// When ONNX Runtime rejects a whole zip's model, ML.NET leaves its temporary copy of the ONNX bytes in
    /// <see cref="MLContext.TempFilePath"/>; set that to a folder of your own where many damaged files are expected.
    /// </remarks>
    /// <param name="mlContext">The context to load with.</param>
    /// <param name="zipPath">A zip written by <c>mlContext.Model.Save</c>.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="zipPath"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a zip, is truncated or damaged, or ML.NET cannot load it; the message names the file and the
    /// inner exception is ML.NET's.
    /// </exception>
    public static ITransformer Load(MLContext mlContext, string zipPath, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrEmpty(zipPath);
        using (var zip = UntrustedZip.Open(zipPath, "a model saved with mlContext.Model.Save"))
            foreach (var entry in zip.Entries)
                zip.Read(entry);
        try
        {
            return mlContext.Model.Load(zipPath, out inputSchema);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // ML.NET throws many types on a zip that is whole but not a model it can load; none names the file.
            throw new InvalidDataException($"'{zipPath}' is not an ML.NET model zip that loads here: {e.Message}", e);
        }
    }

    /// <summary>
    /// A damaged architecture entry could describe a network of billions of weights, which <see cref="SavedCompactTransformer.CreateNetwork"/>
    /// would try to allocate: refuse one that needs more weights than the file holds. The count is a lower bound (attention,
    /// MLP and head matrices, positional embedding, first convolution), so every true architecture passes.
    /// </summary>
    private static void CheckSize(CctArchitecture a, IReadOnlyDictionary<string, NamedTensorData> stateDict, string zipPath)
    {
        double d = a.EmbeddingDim;
        double needed = a.NumLayers * (4 * d * d + 2 * d * a.MlpHiddenDim) + a.NumClasses * d
            + (a.PositionalEmbedding == PositionalEmbeddingKind.None ? 0 : (double)a.SequenceLength * d)
            + (double)a.KernelSize * a.KernelSize * a.InputChannels;
        double stored = stateDict.Values.Sum(t => (double)t.Data.Length);
        if (needed > stored)
            throw new InvalidDataException(
                $"The model in '{zipPath}' is damaged: its architecture metadata describes a network of at least {needed:0} weights, " +
                $"but it stores {stored:0}.");
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
    /// <summary>The zip it was read from, when it was read from one; errors name it.</summary>
    public string? ZipPath { get; init; }

    /// <summary>Builds a TorchSharp network with these weights (trainable), for further training or inspection.</summary>
    /// <exception cref="Interop.CheckpointMismatchException">The weights do not fit the architecture; the message lists every offending key.</exception>
    public CctNetwork CreateNetwork()
    {
        var network = new CctNetwork(Architecture, Mixing.Clone());
        try
        {
            Interop.PyTorchCheckpoint.Load(network, StateDict, ZipPath ?? "saved model", new Interop.CheckpointLoadOptions());
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }
}
