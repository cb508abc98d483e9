namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>The value-mixing weights in force from optimisation step <paramref name="Step"/> on (see <see cref="TrainingHistory.MixingSteps"/>).</summary>
/// <param name="Step">0-based optimisation step over the whole run.</param>
/// <param name="Alpha">Weight of <c>softmax_over_tokens(V)</c>.</param>
/// <param name="Beta">Weight of <c>V</c>.</param>
public sealed record MixingPoint(long Step, double Alpha, double Beta);
