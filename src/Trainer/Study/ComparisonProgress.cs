using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>A progress report of an <see cref="AttentionComparison"/>.</summary>
/// <param name="Run">1-based number of the run in the comparison's order.</param>
/// <param name="Runs">Number of runs in the comparison (variants x seeds).</param>
/// <param name="Variant">The run's variant.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="State">What happened.</param>
/// <param name="Epoch">The completed epoch's metrics when <paramref name="State"/> is <see cref="ComparisonRunState.Epoch"/>; else null.</param>
public sealed record ComparisonProgress(int Run, int Runs, VariantSpec Variant, int Seed, ComparisonRunState State, EpochMetrics? Epoch = null);
