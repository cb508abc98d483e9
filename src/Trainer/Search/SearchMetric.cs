namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>What a search optimises, measured on the validation data with <c>mlContext.MulticlassClassification.Evaluate</c>.</summary>
public enum SearchMetric
{
    /// <summary>Fraction of validation images classified correctly (higher is better).</summary>
    MicroAccuracy,

    /// <summary>Mean over classes of each class's accuracy (higher is better); fairer on imbalanced data.</summary>
    MacroAccuracy,

    /// <summary>Mean negative log-likelihood of the true class (lower is better).</summary>
    LogLoss,
}

/// <summary>Which way each <see cref="SearchMetric"/> improves.</summary>
public static class SearchMetricDirection
{
    /// <summary>True when a larger value of <paramref name="metric"/> is better.</summary>
    public static bool IsHigherBetter(this SearchMetric metric) => metric != SearchMetric.LogLoss;

    /// <summary>The metric turned so that higher is better; NaN (a diverged or failed trial) becomes negative infinity.</summary>
    public static double Score(this SearchMetric metric, double value) =>
        double.IsNaN(value) ? double.NegativeInfinity : metric.IsHigherBetter() ? value : -value;
}
