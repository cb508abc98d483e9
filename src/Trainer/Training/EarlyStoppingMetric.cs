namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>The validation metric that decides which epoch is best (and when to stop early).</summary>
public enum EarlyStoppingMetric
{
    /// <summary>No selection: training runs every epoch and keeps the last weights.</summary>
    None,

    /// <summary>Lower validation cross-entropy is better.</summary>
    ValidationLoss,

    /// <summary>Higher validation top-1 accuracy is better.</summary>
    ValidationTop1,
}
