using Microsoft.ML.CompactTransformer.Study;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

public class StatisticsTests
{
    // Closed forms of Student's t CDF for small integer degrees of freedom (any statistics textbook).
    private static double CdfDf1(double t) => 0.5 + Math.Atan(t) / Math.PI;
    private static double CdfDf2(double t) => 0.5 + t / (2 * Math.Sqrt(2 + t * t));
    private static double CdfDf4(double t)
    {
        double u = 1 + t * t / 4;
        return 0.5 + 3.0 / 8 * t / Math.Sqrt(u) * (1 - t * t / (12 * u));
    }

    [Theory]
    [InlineData(-3.0)]
    [InlineData(-0.4)]
    [InlineData(0.0)]
    [InlineData(0.7)]
    [InlineData(2.5)]
    [InlineData(12.0)]
    public void StudentTCdfMatchesClosedForms(double t)
    {
        Assert.Equal(CdfDf1(t), StudentT.Cdf(t, 1), 12);
        Assert.Equal(CdfDf2(t), StudentT.Cdf(t, 2), 12);
        Assert.Equal(CdfDf4(t), StudentT.Cdf(t, 4), 12);
    }

    [Theory]
    [InlineData(1, 12.7062047362)]
    [InlineData(2, 4.3026527297)]
    [InlineData(4, 2.7764451052)]
    [InlineData(10, 2.2281388520)]
    [InlineData(30, 2.0422724563)]
    public void QuantilesMatchTheTextbookTable(double df, double t975)
    {
        Assert.Equal(t975, StudentT.Quantile(0.975, df), 8);
        Assert.Equal(-t975, StudentT.Quantile(0.025, df), 8);
        Assert.Equal(0.05, StudentT.TwoSidedTail(t975, df), 9);
    }

    [Fact]
    public void SampleSummaryUsesNMinusOne()
    {
        var s = SampleSummary.Of([0.85, 0.86, 0.90]);
        Assert.Equal(0.87, s.Mean, 12);
        Assert.Equal(Math.Sqrt((0.0004 + 0.0001 + 0.0009) / 2), s.StandardDeviation, 12);
        Assert.True(double.IsNaN(SampleSummary.Of([0.5]).StandardDeviation));
    }

    [Fact]
    public void WelchTestOnEqualSpreadsHasTwiceNMinusOneDegrees()
    {
        // baseline 80, 82, 84 % and variant 85, 87, 89 %: both sd 2 %, so df = 2 (n - 1) = 4 and SE = sqrt(2 * 0.02² / 3).
        var test = WelchTest.Compare([0.80, 0.82, 0.84], [0.85, 0.87, 0.89])!;
        double se = Math.Sqrt(2 * 0.0004 / 3);
        Assert.Equal(0.05, test.Difference, 12);
        Assert.Equal(se, test.StandardError, 12);
        Assert.Equal(0.05 / se, test.T, 9);
        Assert.Equal(4, test.DegreesOfFreedom, 9);
        Assert.Equal(2 * (1 - CdfDf4(0.05 / se)), test.PValue, 9);
        Assert.Equal(0.05 - 2.7764451052 * se, test.ConfidenceLow, 8);
        Assert.Equal(0.05 + 2.7764451052 * se, test.ConfidenceHigh, 8);
    }

    [Fact]
    public void WelchTestOnUnequalSpreadsUsesWelchSatterthwaite()
    {
        // baseline sd 2 %, variant sd sqrt(7) %: df = 2 (0.0011)² / (0.0004² + 0.0007²) = 3.7231 by hand.
        var test = WelchTest.Compare([0.80, 0.82, 0.84], [0.85, 0.86, 0.90])!;
        double v1 = 0.0004 / 3, v2 = 0.0007 / 3;
        double df = (v1 + v2) * (v1 + v2) / (v1 * v1 / 2 + v2 * v2 / 2);
        Assert.Equal(3.7230769231, df, 9);
        Assert.Equal(df, test.DegreesOfFreedom, 9);
        Assert.Equal(0.05 / Math.Sqrt(v1 + v2), test.T, 9);
        // Between the p-values of 3 and 4 degrees of freedom, which the closed forms give.
        double p3 = StudentT.TwoSidedTail(test.T, 3), p4 = 2 * (1 - CdfDf4(test.T));
        Assert.InRange(test.PValue, p4, p3);
        Assert.Null(WelchTest.Compare([0.8], [0.9, 0.91]));
    }
}
