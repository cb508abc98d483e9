using System.Globalization;
using System.Text;
using Microsoft.ML.CompactTransformer.Plotting;

namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>
/// Turns the runs of a comparison into its report: per-variant statistics against a baseline (Welch's t-test),
/// <c>runs.csv</c>, <c>summary.md</c> and <c>curves.png</c>. Usable on its own, e.g. to rebuild the report of a
/// folder of finished runs (<see cref="AttentionComparison.LoadRuns"/>).
/// </summary>
public static class ComparisonReport
{
    /// <summary>File name of the per-epoch table.</summary>
    public const string RunsCsvFileName = "runs.csv";

    /// <summary>File name of the Markdown summary.</summary>
    public const string SummaryFileName = "summary.md";

    /// <summary>File name of the curves plot.</summary>
    public const string CurvesFileName = "curves.png";

    /// <summary>The baseline among <paramref name="variants"/>: the first <c>standard</c> one if any, else the first.</summary>
    public static VariantSpec Baseline(IReadOnlyList<VariantSpec> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        if (variants.Count == 0)
            throw new ArgumentException("No variants.", nameof(variants));
        return variants.FirstOrDefault(v => v.Variant == AttentionVariant.Standard) ?? variants[0];
    }

    /// <summary>Statistics per variant (in the order of <paramref name="variants"/>), compared with <see cref="Baseline"/>.</summary>
    /// <param name="runs">The runs; those of variants not listed are ignored.</param>
    /// <param name="variants">The variants to summarise.</param>
    /// <param name="confidence">Level of the confidence intervals.</param>
    public static IReadOnlyList<VariantSummary> Summarize(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<VariantSpec> variants, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var baseline = Baseline(variants);
        SampleSummary Of(VariantSpec v, Func<ComparisonRun, double> value) =>
            SampleSummary.Of(runs.Where(r => r.Variant == v).Select(value).Where(double.IsFinite).ToArray());
        var baseFinal = Of(baseline, r => r.FinalAccuracy);
        var baseBest = Of(baseline, r => r.BestAccuracy);
        return variants.Select(v =>
        {
            bool isBaseline = v == baseline;
            var final = Of(v, r => r.FinalAccuracy);
            var best = Of(v, r => r.BestAccuracy);
            return new VariantSummary(v, isBaseline, final, best, Of(v, r => r.Seconds),
                isBaseline ? null : WelchTest.Compare(baseFinal, final, confidence),
                isBaseline ? null : WelchTest.Compare(baseBest, best, confidence));
        }).ToArray();
    }

    /// <summary>Writes <c>runs.csv</c>, <c>summary.md</c> and <c>curves.png</c> into <paramref name="folder"/> (each atomically).</summary>
    /// <param name="folder">The output folder (created if missing).</param>
    /// <param name="runs">The runs to report.</param>
    /// <param name="variants">The variants, in report order; the baseline is chosen by <see cref="Baseline"/>.</param>
    /// <param name="title">Heading of the summary, e.g. the data set and recipe.</param>
    public static ComparisonResult Write(string folder, IReadOnlyList<ComparisonRun> runs, IReadOnlyList<VariantSpec> variants, string? title = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(variants);
        Directory.CreateDirectory(folder);
        var summaries = Summarize(runs, variants);
        string csv = Path.Combine(folder, RunsCsvFileName), summary = Path.Combine(folder, SummaryFileName), curves = Path.Combine(folder, CurvesFileName);
        AtomicFile.WriteAllText(csv, RunsCsv(runs, variants));
        AtomicFile.WriteAllText(summary, SummaryMarkdown(summaries, runs, title));
        ChartRenderer.SavePng(curves, CurvePanels(runs, variants));
        return new ComparisonResult(runs, summaries, csv, summary, curves);
    }

    /// <summary>One row per run per epoch: variant, scope, alpha, beta, seed, epoch, losses, accuracies, learning rate, seconds.</summary>
    public static string RunsCsv(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<VariantSpec> variants)
    {
        var text = new StringBuilder("variant,scope,alpha,beta,seed,epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_top5,lr,seconds\n");
        foreach (var run in Ordered(runs, variants))
            foreach (var e in run.History.Epochs)
                text.AppendJoin(',', run.Variant.ToString(), run.Variant.ScopeName, N(e.Alpha), N(e.Beta), run.Seed.ToString(CultureInfo.InvariantCulture),
                        e.Epoch.ToString(CultureInfo.InvariantCulture), N(e.TrainLoss), N(e.TrainAccuracy), N(e.ValidationLoss), N(e.ValidationTop1),
                        N(e.ValidationTop5), N(e.LearningRate), N(e.Seconds))
                    .Append('\n');
        return text.ToString();
    }

    /// <summary>The Markdown summary: one table row per variant, then the test details.</summary>
    public static string SummaryMarkdown(IReadOnlyList<VariantSummary> summaries, IReadOnlyList<ComparisonRun> runs, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        var baseline = summaries.FirstOrDefault(s => s.IsBaseline);
        double confidence = summaries.Select(s => s.FinalVersusBaseline?.Confidence).FirstOrDefault(c => c is not null) ?? 0.95;
        string level = (confidence * 100).ToString("0.##", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.Append("# ").Append(title ?? "Attention comparison").Append("\n\n");
        md.Append($"Validation top-1 accuracy in %, mean ± sample standard deviation over seeds. Differences are variant − baseline " +
                  $"(`{baseline?.Variant}`), with a {level}% confidence interval and the two-sided p-value of Welch's t-test. " +
                  $"Seeds: {string.Join(", ", runs.Select(r => r.Seed).Distinct().Order())}.\n\n");
        md.Append($"| variant | runs | final | best | minutes/run | Δ final ({level}% CI) | p final | Δ best ({level}% CI) | p best |\n");
        md.Append("|---|---|---|---|---|---|---|---|---|\n");
        foreach (var s in summaries)
        {
            md.Append($"| `{s.Variant}` | {s.FinalAccuracy.Count} | {MeanStd(s.FinalAccuracy)} | {MeanStd(s.BestAccuracy)} | " +
                      $"{(s.Seconds.Mean / 60).ToString("0.0", CultureInfo.InvariantCulture)} | ");
            md.Append(s.IsBaseline ? "baseline | | baseline | |\n" : $"{Difference(s.FinalVersusBaseline)} | {P(s.FinalVersusBaseline)} | {Difference(s.BestVersusBaseline)} | {P(s.BestVersusBaseline)} |\n");
        }
        md.Append("\n## Welch's t-tests\n\n| variant | metric | difference | t | df | p |\n|---|---|---|---|---|---|\n");
        foreach (var s in summaries.Where(s => !s.IsBaseline))
            foreach (var (metric, test) in new[] { ("final", s.FinalVersusBaseline), ("best", s.BestVersusBaseline) })
                md.Append(test is null
                    ? $"| `{s.Variant}` | {metric} | n/a (fewer than 2 runs) | | | |\n"
                    : $"| `{s.Variant}` | {metric} | {Percent(test.Difference, signed: true)} | {F(test.T, "0.000")} | {F(test.DegreesOfFreedom, "0.00")} | {F(test.PValue, "0.0000")} |\n");
        return md.ToString();
    }

    private static List<ChartPanel> CurvePanels(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<VariantSpec> variants)
    {
        var accuracy = new List<ChartSeries>();
        var loss = new List<ChartSeries>();
        for (int i = 0; i < variants.Count; i++)
        {
            var mine = runs.Where(r => r.Variant == variants[i]).ToArray();
            int epochs = mine.Select(r => r.History.Epochs.Count).DefaultIfEmpty(0).Max();
            if (epochs == 0)
                continue;
            double[] x = Enumerable.Range(1, epochs).Select(e => (double)e).ToArray();
            // Epoch e is averaged over the runs that reached it (early-stopped runs end sooner).
            SampleSummary At(int e, Func<Training.EpochMetrics, double?> f) => SampleSummary.Of(mine.Where(r => r.History.Epochs.Count > e)
                .Select(r => f(r.History.Epochs[e]) ?? double.NaN).Where(double.IsFinite).ToArray());
            var acc = Enumerable.Range(0, epochs).Select(e => At(e, m => m.ValidationTop1)).ToArray();
            var los = Enumerable.Range(0, epochs).Select(e => At(e, m => m.ValidationLoss)).ToArray();
            string label = $"{variants[i]} (n={mine.Length})";
            var color = ChartPalette.At(i);
            accuracy.Add(new ChartSeries(label, color, x, acc.Select(s => s.Mean).ToArray(),
                acc.Select(s => s.Mean - s.StandardDeviation).ToArray(), acc.Select(s => s.Mean + s.StandardDeviation).ToArray()));
            loss.Add(new ChartSeries(label, color, x, los.Select(s => s.Mean).ToArray(),
                los.Select(s => s.Mean - s.StandardDeviation).ToArray(), los.Select(s => s.Mean + s.StandardDeviation).ToArray()));
        }
        return
        [
            new ChartPanel("validation accuracy (mean ± 1 std)", "epoch", "top-1 accuracy", accuracy),
            new ChartPanel("validation loss (mean ± 1 std)", "epoch", "cross-entropy", loss),
        ];
    }

    private static IEnumerable<ComparisonRun> Ordered(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<VariantSpec> variants) =>
        runs.OrderBy(r => Index(variants, r.Variant)).ThenBy(r => r.Seed);

    private static int Index(IReadOnlyList<VariantSpec> variants, VariantSpec v)
    {
        for (int i = 0; i < variants.Count; i++)
            if (variants[i] == v)
                return i;
        return int.MaxValue;
    }

    private static string MeanStd(SampleSummary s) =>
        s.Count == 0 ? "n/a" : s.Count == 1 ? Percent(s.Mean) : $"{Percent(s.Mean)} ± {Percent(s.StandardDeviation)}";

    private static string Difference(WelchTest? test) =>
        test is null ? "n/a" : $"{Percent(test.Difference, signed: true)} [{Percent(test.ConfidenceLow, signed: true)}, {Percent(test.ConfidenceHigh, signed: true)}]";

    private static string P(WelchTest? test) => test is null ? "n/a" : test.PValue < 1e-4 ? "< 0.0001" : F(test.PValue, "0.0000");

    private static string Percent(double fraction, bool signed = false) =>
        (fraction * 100).ToString(signed ? "+0.00;-0.00;0.00" : "0.00", CultureInfo.InvariantCulture);

    private static string F(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string N(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string N(double? value) => value is { } v ? N(v) : "";
}
