namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Names, input preprocessing and format of an exported ONNX graph. The defaults fit the ML.NET
/// chain built by <see cref="OnnxScoringPipeline"/>: one image per call, as the flat
/// <c>C*H*W</c> float vector that <c>ExtractPixels</c> produces.
/// </summary>
public sealed record OnnxExportSettings
{
    /// <summary>Name of the graph input; ML.NET binds it to the feature column of the same name.</summary>
    public string InputName { get; init; } = "Features";

    /// <summary>Name of the softmax-probability output.</summary>
    public string ScoreOutputName { get; init; } = "Score";

    /// <summary>Name of the arg-max output (int64, 0-based class index), or null to leave it out.</summary>
    public string? PredictedIndexOutputName { get; init; } = "PredictedIndex";

    /// <summary>Name of an extra raw-logits output, or null (the default) to leave it out.</summary>
    public string? LogitsOutputName { get; init; }

    /// <summary>
    /// Class names in class-index order. When set, the graph carries them as the slot names of the score
    /// output (a LabelEncoder node named <c>mlnet.{Score}.SlotNames</c>, which ML.NET reads).
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Factor applied to the raw input before mean/std, e.g. 1/255 for 0-255 pixels.</summary>
    public float PixelScale { get; init; } = 1f;

    /// <summary>Per-channel mean subtracted after <see cref="PixelScale"/>; null means 0.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>Per-channel standard deviation divided by after the mean; null means 1.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>
    /// False (default): input <c>[C*H*W]</c>, outputs <c>[K]</c> and <c>[1]</c>, as ML.NET's OnnxTransformer wants
    /// for a known-size vector column. True: a leading symbolic batch axis on the input and every output.
    /// </summary>
    public bool BatchAxis { get; init; }

    /// <summary>Default-domain opset, 17 to 21 (17 is the first with LayerNormalization).</summary>
    public int Opset { get; init; } = 17;

    /// <summary>Name stored in the graph.</summary>
    public string GraphName { get; init; } = "cct";

    /// <summary>
    /// Key/value pairs written as the model's <c>metadata_props</c> (ONNX Runtime shows them as
    /// <c>ModelMetadata.CustomMetadataMap</c>; <see cref="OnnxModelReader"/> reads them back). Null or empty writes none.
    /// Keys must be non-empty; values may be empty but not null.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
