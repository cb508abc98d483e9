namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>The Compact Transformer network found inside a saved ML.NET model zip, read by <see cref="ModelZipReader"/>.</summary>
public sealed class SavedCctModel
{
    internal SavedCctModel(string zipPath, string entryName, byte[] onnxModel, OnnxModelContents contents)
    {
        ZipPath = zipPath;
        EntryName = entryName;
        OnnxModel = onnxModel;
        Contents = contents;
    }

    /// <summary>The zip file it was read from.</summary>
    public string ZipPath { get; }

    /// <summary>The zip entry that holds it, e.g. <c>TransformerChain/Transform_001/Transform_000/OnnxModel</c>.</summary>
    public string EntryName { get; }

    /// <summary>The ONNX model bytes, exactly as exported (the entry minus ML.NET's length prefix).</summary>
    public byte[] OnnxModel { get; }

    /// <summary>The parsed ONNX model.</summary>
    public OnnxModelContents Contents { get; }

    /// <summary>The metadata written with <see cref="OnnxExportSettings.Metadata"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata => Contents.Metadata;

    /// <summary>The network weights under their original state_dict keys (see <see cref="OnnxModelContents.StateDict"/>).</summary>
    /// <exception cref="InvalidDataException">A weight is stored with a type other than float32.</exception>
    public Dictionary<string, NamedTensorData> StateDict() => Contents.StateDict();
}
