namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>What <c>cct train</c> was asked to do.</summary>
internal sealed record TrainArguments
{
    /// <summary>The training images.</summary>
    public required DataArguments Data { get; init; }

    /// <summary>Architecture and recipe.</summary>
    public required RecipeArguments Recipe { get; init; }

    /// <summary>The output folder: model.zip, history.csv, history.json, learning-curve.png (and checkpoints/).</summary>
    public required string Output { get; init; }

    /// <summary>Writes a checkpoint to OUTDIR/checkpoints every this many epochs; 0 for none.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>A checkpoint folder, a folder of them, or an earlier OUTDIR (its checkpoints/) to continue from.</summary>
    public string? Resume { get; init; }

    /// <summary>Steps between two progress lines in plain (redirected) output; 0 for epoch lines only.</summary>
    public int LogEvery { get; init; }
}
