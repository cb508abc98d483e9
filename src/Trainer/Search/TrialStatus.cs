namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>How a recorded trial ended.</summary>
public enum TrialStatus
{
    /// <summary>Trained and evaluated.</summary>
    Completed,

    /// <summary>Threw; its score is negative infinity, so it is never best nor promoted.</summary>
    Failed,
}
