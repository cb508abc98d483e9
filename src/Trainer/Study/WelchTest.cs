namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>
/// Welch's unequal-variance t-test of a difference of means, with its confidence interval: the comparison a
/// handful of seeds per variant allows. The difference is <c>mean(other) - mean(baseline)</c>.
/// </summary>
/// <param name="Difference">mean(other) - mean(baseline).</param>
/// <param name="StandardError">sqrt(s1²/n1 + s2²/n2).</param>
/// <param name="T">Difference / StandardError.</param>
/// <param name="DegreesOfFreedom">Welch–Satterthwaite: (s1²/n1 + s2²/n2)² / ((s1²/n1)²/(n1-1) + (s2²/n2)²/(n2-1)).</param>
/// <param name="PValue">Two-sided p-value of T under Student's t with those degrees of freedom.</param>
/// <param name="ConfidenceLow">Lower end of the confidence interval of the difference.</param>
/// <param name="ConfidenceHigh">Upper end of the confidence interval of the difference.</param>
/// <param name="Confidence">The interval's confidence level, e.g. 0.95.</param>
public sealed record WelchTest(double Difference, double StandardError, double T, double DegreesOfFreedom, double PValue,
    double ConfidenceLow, double ConfidenceHigh, double Confidence)
{
    /// <summary>Compares <paramref name="other"/> with <paramref name="baseline"/>; null when either has fewer than two values.</summary>
    /// <param name="baseline">The reference sample (e.g. final accuracies of standard attention over seeds).</param>
    /// <param name="other">The sample compared with it.</param>
    /// <param name="confidence">Level of the confidence interval, in (0, 1).</param>
    public static WelchTest? Compare(SampleSummary baseline, SampleSummary other, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(other);
        if (confidence is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Expected a level strictly between 0 and 1.");
        if (baseline.Count < 2 || other.Count < 2)
            return null;
        double difference = other.Mean - baseline.Mean;
        double v1 = baseline.Variance / baseline.Count, v2 = other.Variance / other.Count;
        double se = Math.Sqrt(v1 + v2);
        if (se == 0)
        {
            // Identical runs within each variant: no spread to test against; the difference is certain or nil.
            return new WelchTest(difference, 0, difference == 0 ? 0 : Math.CopySign(double.PositiveInfinity, difference), double.NaN,
                difference == 0 ? 1 : 0, difference, difference, confidence);
        }
        double df = (v1 + v2) * (v1 + v2) / (v1 * v1 / (baseline.Count - 1) + v2 * v2 / (other.Count - 1));
        double t = difference / se;
        double half = StudentT.Quantile(1 - (1 - confidence) / 2, df) * se;
        return new WelchTest(difference, se, t, df, StudentT.TwoSidedTail(t, df), difference - half, difference + half, confidence);
    }

    /// <summary>Compares two samples of raw values; null when either has fewer than two.</summary>
    public static WelchTest? Compare(IReadOnlyCollection<double> baseline, IReadOnlyCollection<double> other, double confidence = 0.95) =>
        Compare(SampleSummary.Of(baseline), SampleSummary.Of(other), confidence);
}
