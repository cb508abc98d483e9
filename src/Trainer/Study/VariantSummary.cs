namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>One variant's results over its seeds, and how it differs from the baseline variant.</summary>
/// <param name="Variant">The variant.</param>
/// <param name="IsBaseline">True for the variant the others are compared with.</param>
/// <param name="FinalAccuracy">Validation top-1 after the last epoch, over seeds.</param>
/// <param name="BestAccuracy">Best validation top-1 of each run, over seeds.</param>
/// <param name="Seconds">Training seconds per run, over seeds.</param>
/// <param name="FinalVersusBaseline">Welch's test of final accuracy against the baseline; null for the baseline or fewer than two runs on either side.</param>
/// <param name="BestVersusBaseline">Welch's test of best accuracy against the baseline; null likewise.</param>
public sealed record VariantSummary(VariantSpec Variant, bool IsBaseline, SampleSummary FinalAccuracy, SampleSummary BestAccuracy, SampleSummary Seconds,
    WelchTest? FinalVersusBaseline, WelchTest? BestVersusBaseline);
