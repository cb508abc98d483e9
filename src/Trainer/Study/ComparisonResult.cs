namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>What a finished <see cref="AttentionComparison"/> left: every run, the per-variant statistics and the report files.</summary>
/// <param name="Runs">Every run, trained now or found finished in the output folder.</param>
/// <param name="Summaries">One per variant, in the comparison's order.</param>
/// <param name="RunsCsvPath">One row per run per epoch.</param>
/// <param name="SummaryPath">The Markdown summary.</param>
/// <param name="CurvesPath">Mean validation curves with ±1 std bands.</param>
public sealed record ComparisonResult(IReadOnlyList<ComparisonRun> Runs, IReadOnlyList<VariantSummary> Summaries,
    string RunsCsvPath, string SummaryPath, string CurvesPath);
