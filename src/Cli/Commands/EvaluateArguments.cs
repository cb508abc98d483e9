namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>What <c>cct evaluate</c> was asked to do (one property per option).</summary>
internal sealed record EvaluateArguments
{
    /// <summary>An ML.NET model zip whose input is one vector column of C*H*W floats and whose output has Score and PredictedLabel.</summary>
    public required string Model { get; init; }

    /// <summary>A folder-per-class image tree; the folder names are class names of the model.</summary>
    public required string Data { get; init; }

    /// <summary>Square image size; null infers it from the input vector size.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Image channels (1 or 3); null infers them from the input vector size.</summary>
    public int? Channels { get; init; }
}
