using Microsoft.ML.CompactTransformer.Study;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

public class ComparisonReportTests
{
    private static readonly VariantSpec Standard = VariantSpec.Parse("standard");
    private static readonly VariantSpec Remix = VariantSpec.Parse("remix:both@0.5");

    /// <summary>A two-epoch history whose last epoch has the given validation accuracy (the first has 0.5) and lasts 30 s.</summary>
    private static ComparisonRun Made(VariantSpec variant, int seed, double final) => new(variant, seed, new TrainingHistory(
    [
        new EpochMetrics { Epoch = 1, Steps = 4, TrainLoss = 1.2, TrainAccuracy = 0.4, ValidationLoss = 1.1, ValidationTop1 = 0.5, ValidationTop5 = 1, Seconds = 10 },
        new EpochMetrics { Epoch = 2, Steps = 8, TrainLoss = 0.6, TrainAccuracy = 0.8, ValidationLoss = 0.7, ValidationTop1 = final, ValidationTop5 = 1, Seconds = 20 },
    ]));

    private static ComparisonRun[] Runs() =>
    [
        // Listed remix first: the baseline is still standard, because it is named standard.
        Made(Remix, 0, 0.85), Made(Remix, 1, 0.87), Made(Remix, 2, 0.89),
        Made(Standard, 0, 0.80), Made(Standard, 1, 0.82), Made(Standard, 2, 0.84),
    ];

    [Fact]
    public void SummaryHasTheHandComputedStatistics()
    {
        var variants = new[] { Remix, Standard };
        Assert.Equal(Standard, ComparisonReport.Baseline(variants));
        var summaries = ComparisonReport.Summarize(Runs(), variants);
        var remix = summaries[0];
        Assert.False(remix.IsBaseline);
        Assert.True(summaries[1].IsBaseline);
        Assert.Equal((3, 0.87), (remix.FinalAccuracy.Count, Math.Round(remix.FinalAccuracy.Mean, 12)));
        Assert.Equal(0.02, remix.FinalAccuracy.StandardDeviation, 12);
        Assert.Equal(30, remix.Seconds.Mean, 12);
        // Best accuracy is the last epoch here (0.5 before it), so both tests agree.
        Assert.Equal(remix.FinalVersusBaseline, remix.BestVersusBaseline);

        double se = Math.Sqrt(2 * 0.0004 / 3), t = 0.05 / se, half = 2.7764451052 * se;
        var test = remix.FinalVersusBaseline!;
        Assert.Equal(t, test.T, 9);
        Assert.Equal(4, test.DegreesOfFreedom, 9);

        string md = ComparisonReport.SummaryMarkdown(summaries, Runs());
        string row = md.Split('\n').Single(l => l.StartsWith("| `remix:both@0.5` | 3 |", StringComparison.Ordinal));
        Assert.Contains("| 87.00 ± 2.00 |", row);
        string ci = $"+5.00 [{(5 - half * 100).ToString("+0.00", System.Globalization.CultureInfo.InvariantCulture)}, {(5 + half * 100).ToString("+0.00", System.Globalization.CultureInfo.InvariantCulture)}]";
        Assert.Equal("+5.00 [+0.47, +9.53]", ci); // 0.05 ± 2.776 * 0.01633, by hand
        Assert.Contains($"| {ci} | {test.PValue.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)} |", row);
        Assert.Contains("| 0.5 |", row); // minutes per run: 30 s
        Assert.Contains("| `standard` | 3 | 82.00 ± 2.00 |", md);
        Assert.Contains($"| `remix:both@0.5` | final | +5.00 | {t.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)} | 4.00 |", md);
    }

    [Fact]
    public void RunsCsvHasOneRowPerRunPerEpochInVariantOrder()
    {
        string csv = ComparisonReport.RunsCsv(Runs(), [Standard, Remix]);
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("variant,scope,alpha,beta,seed,epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_top5,lr,seconds", lines[0]);
        Assert.Equal(1 + 6 * 2, lines.Length);
        Assert.StartsWith("standard,pooling,0,0,0,1,1.2,0.4,1.1,0.5,1,0,10", lines[1]);
        Assert.StartsWith("remix:both@0.5,both,", lines[7]);
        Assert.EndsWith(",0.89,1,0,20", lines[^1]);
    }

    [Fact]
    public void ReportFilesAreWrittenAndThePlotIsAPng()
    {
        string folder = Directory.CreateTempSubdirectory("cct-report-").FullName;
        try
        {
            var result = ComparisonReport.Write(folder, Runs(), [Standard, Remix], "Made-up runs");
            Assert.StartsWith("# Made-up runs", File.ReadAllText(result.SummaryPath));
            Assert.Equal(13, File.ReadAllLines(result.RunsCsvPath).Length);
            Assert.Equal((1240, 420), PngFile.Size(result.CurvesPath));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
