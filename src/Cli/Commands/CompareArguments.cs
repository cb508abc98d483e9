namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>What <c>cct compare</c> was asked to do.</summary>
internal sealed record CompareArguments
{
    /// <summary>The training and validation images.</summary>
    public required DataArguments Data { get; init; }

    /// <summary>Architecture and recipe every run shares (its attention flags are the variants').</summary>
    public required RecipeArguments Recipe { get; init; }

    /// <summary>Comma-separated <c>NAME[:SCOPE][@ALPHA]</c> variants, e.g. <c>standard,softmax-values:pooling,remix:both@0.5</c>.</summary>
    public required string Variants { get; init; }

    /// <summary>Seeds per variant: the recipe's seed, +1, +2...</summary>
    public int Seeds { get; init; } = 1;

    /// <summary>The output folder: runs/, runs.csv, summary.md, curves.png.</summary>
    public required string Output { get; init; }
}
