namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>Mean and sample standard deviation (n - 1 in the denominator) of a handful of runs.</summary>
/// <param name="Count">Number of values.</param>
/// <param name="Mean">Arithmetic mean; NaN for no values.</param>
/// <param name="StandardDeviation">Sample standard deviation; NaN for fewer than two values.</param>
public sealed record SampleSummary(int Count, double Mean, double StandardDeviation)
{
    /// <summary>Summarises <paramref name="values"/>.</summary>
    public static SampleSummary Of(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        if (n == 0)
            return new SampleSummary(0, double.NaN, double.NaN);
        double mean = values.Average();
        double sd = n < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        return new SampleSummary(n, mean, sd);
    }

    /// <summary>Sample variance (NaN for fewer than two values).</summary>
    public double Variance => StandardDeviation * StandardDeviation;
}
