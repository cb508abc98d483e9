namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>What a <see cref="ComparisonProgress"/> report is about.</summary>
public enum ComparisonRunState
{
    /// <summary>The run was found finished in the output folder and is not trained again.</summary>
    Skipped,

    /// <summary>Training of the run starts.</summary>
    Started,

    /// <summary>The run completed an epoch (<see cref="ComparisonProgress.Epoch"/> holds its metrics).</summary>
    Epoch,

    /// <summary>The run finished and its history file was written.</summary>
    Finished,
}
