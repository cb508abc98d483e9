namespace Microsoft.ML.CompactTransformer;

/// <summary>ML.NET's default column names (its own DefaultColumnNames class is internal).</summary>
public static class DefaultColumns
{
    /// <summary>"Label".</summary>
    public const string Label = "Label";

    /// <summary>"Features".</summary>
    public const string Features = "Features";

    /// <summary>"Score".</summary>
    public const string Score = "Score";

    /// <summary>"PredictedLabel".</summary>
    public const string PredictedLabel = "PredictedLabel";
}
