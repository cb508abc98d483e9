namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>Column names and ONNX Runtime threading of the chain built by <see cref="OnnxScoringPipeline"/>.</summary>
public sealed record OnnxScoringOptions
{
    /// <summary>Name of the ONNX score output and of the ML.NET column it becomes.</summary>
    public string ScoreColumnName { get; init; } = "Score";

    /// <summary>Name of the ONNX arg-max output (int64, 0-based); a temporary column, dropped at the end of the chain.</summary>
    public string PredictedIndexOutputName { get; init; } = "PredictedIndex";

    /// <summary>Name of the key-typed predicted-label column.</summary>
    public string PredictedLabelColumnName { get; init; } = "PredictedLabel";

    /// <summary>
    /// ONNX Runtime threads within one operator. ML.NET runs one row per ORT call, and for small models one
    /// thread was measured twice as fast as two on a 2-core machine; 0 lets ORT choose.
    /// </summary>
    public int IntraOpNumThreads { get; init; } = 1;

    /// <summary>ONNX Runtime threads across operators; 0 lets ORT choose.</summary>
    public int InterOpNumThreads { get; init; } = 1;
}
